// Is this JWT access token good, right now? Local signature verification (RS256 only, the keys
// published in our JWKS only, typ at+jwt, our issuer, not expired, not issued in the future;
// jose never fetches jku/x5u), then the revocation state and live policy, all from memory.
// Every token costs exactly one RSA verification: one refused before its signature was checked
// (unparseable, unknown kid, wrong alg) pays for a decoy's, so an unknown token and a revoked
// one take the same work.
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { Keyring } from '../keys/keyring.ts';
import { SIGNING_ALG } from '../keys/signing-keys.ts';
import type { Clock } from '../time/clock.ts';
import { approvalOf, chainOf, exchangedFromOf } from '../governance/act-claim.ts';
import type { ChainHop } from '../governance/delegation.ts';
import { issuanceContextOf, isUserSubject, tokenBindingOfClaims, tokenLiveness, type LiveTokenFacts, type LivenessReason } from './token-liveness.ts';

export type InactiveReason = 'invalid' | 'expired' | 'not_yet_valid' | 'wrong_audience' | LivenessReason;

type AccessTokenCheck = { active: true; claims: JWTPayload } | { active: false; reason: InactiveReason; jti?: string | undefined };

export interface AccessTokenChecker {
  /** Good now, for `audience` (a resource server sees only its own tokens; null: none). */
  check(token: string, audience: string | null): Promise<AccessTokenCheck>;
  /** Good now, for whatever audience it names (token exchange judges subject and actor tokens). */
  checkAnyAudience(token: string): Promise<AccessTokenCheck>;
  /** Signature and issuer only (revocation: expired tokens still identify their client). */
  verifySignature(token: string): Promise<JWTPayload | undefined>;
}

// jose checks `iat` only together with maxTokenAge, so a token stamped ahead of our clock
// passed. Principal revocations match `iat ≤ cutoff` (revocation-state.ts), so such a token (an
// instance whose clock runs fast, or a stolen key) would outlive every `govauth revoke`. RFC 7519
// §4.1.6 leaves rejecting it to us; the leeway covers NTP-level skew between instances and
// iat's whole seconds (RFC 7519 §4.1.5 "some small leeway").
const IAT_LEEWAY_SEC = 5;

const audienceMatches = (aud: JWTPayload['aud'], expected: string): boolean => (Array.isArray(aud) ? aud.includes(expected) : aud === expected);

const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

interface Decoy {
  readonly token: string;
  /** Length of a base64url signature of the key's size: only those cost a full RSA operation. */
  readonly signatureChars: number;
}

/**
 * A token under `kid` with a random signature of the key's size, below the modulus (leading
 * 0x01 byte), so OpenSSL does the whole modular exponentiation before refusing it.
 */
function decoyFor(kid: string, modulus: string | undefined): Decoy {
  const signature = randomBytes(Buffer.from(modulus ?? '', 'base64url').length || 256);
  signature[0] = 1;
  const encoded = signature.toString('base64url');
  return { token: `${b64url({ alg: SIGNING_ALG, typ: 'at+jwt', kid })}.${b64url({ decoy: true })}.${encoded}`, signatureChars: encoded.length };
}

/** Whether jose got as far as a full RSA verification before it refused `token`. */
function paidForSignature(code: string, token: string, decoy: Decoy): boolean {
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' || code === 'ERR_JWT_EXPIRED') return true; // signature was good
  // A signature of the wrong size is refused before any exponentiation.
  return code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' && token.length - token.lastIndexOf('.') - 1 === decoy.signatureChars;
}

export function createAccessTokenChecker(deps: { keyring: Keyring; issuer: string; policy: PolicyStore; now: Clock }): AccessTokenChecker {
  let jwks: JWTVerifyGetKey | undefined;
  let decoy: Decoy = { token: '', signatureChars: 0 };
  let jwksFor = -1;
  const keys = (): JWTVerifyGetKey => {
    // Only what JWKS publishes: a withdrawn (emergency) or expired key must stop verifying here
    // exactly as at a resource server. Rebuilt when the keyring changes; it is reloaded at every
    // key transition (keyring-store.ts).
    if (jwksFor !== deps.keyring.version) {
      const published = new Set(deps.keyring.publishedKids());
      const usable = deps.keyring.keys.filter((k) => published.has(k.kid));
      jwks = createLocalJWKSet({ keys: usable.map((k) => ({ ...k.publicJwk })) });
      const signing = usable.find((k) => k.kid === deps.keyring.signingKid()) ?? usable[0];
      decoy = signing ? decoyFor(signing.kid, (signing.publicJwk as { n?: string }).n) : decoy;
      jwksFor = deps.keyring.version;
    }
    return jwks as JWTVerifyGetKey;
  };

  const verify = async (token: string, checkExpiry: boolean): Promise<{ payload: JWTPayload } | { error: 'invalid' | 'expired' | 'not_yet_valid' }> => {
    try {
      const { payload } = await jwtVerify(token, keys(), {
        issuer: deps.issuer,
        typ: 'at+jwt', // RFC 9068 §4: refuse ID tokens and other JWTs presented as access tokens
        algorithms: [SIGNING_ALG],
        requiredClaims: ['jti', 'iat', 'exp', 'client_id', 'sub', 'aud'],
        currentDate: new Date(checkExpiry ? deps.now() : 0),
      });
      if (checkExpiry && Number(payload.iat) > deps.now() / 1000 + IAT_LEEWAY_SEC) return { error: 'not_yet_valid' };
      return { payload };
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (code === 'ERR_JWT_EXPIRED') return { error: 'expired' };
      // Refused before any RSA work: do the one verification a well-formed token costs.
      if (!paidForSignature(code, token, decoy)) await jwtVerify(decoy.token, keys(), { algorithms: [SIGNING_ALG] }).catch(() => undefined);
      return { error: 'invalid' };
    }
  };

  return {
    async verifySignature(token) {
      const r = await verify(token, false);
      return 'payload' in r ? r.payload : undefined;
    },

    check: (token, audience) => checkToken(token, audience),
    checkAnyAudience: (token) => checkToken(token, { any: true }),
  };

  async function checkToken(token: string, audience: string | null | { any: true }): Promise<AccessTokenCheck> {
    const r = await verify(token, true);
    if (!('payload' in r)) return { active: false, reason: r.error };
    const p = r.payload;
    const jti = String(p.jti);
    // A resource server sees only tokens for its own audience (nothing about the others').
    if (audience === null || (typeof audience === 'string' && !audienceMatches(p.aud, audience))) return { active: false, reason: 'wrong_audience', jti };
    // A delegated token (RFC 8693 §4.1): its act chain must be well formed, name a person as
    // subject and the token's client as current actor, or govauth did not sign it as such.
    const chain = chainOf(p);
    const exchangedFrom = exchangedFromOf(p);
    const userId = isUserSubject(p.sub) ? p.sub : undefined;
    if (!chain || !exchangedFrom || (chain.length && (!userId || chain[0]?.actor !== p.client_id))) return { active: false, reason: 'invalid', jti };
    const reason = tokenLiveness(deps, liveFactsOfClaims(p, chain, exchangedFrom));
    if (reason) return { active: false, reason, jti };
    return { active: true, claims: p };
  }
}

/**
 * What tokenLiveness judges of a verified token, from its claims (the status list reads the same
 * facts from the token's audit record: statuslist/token-facts.ts, live-tokens.ts factsOf).
 */
export function liveFactsOfClaims(p: JWTPayload, chain: readonly ChainHop[], exchangedFrom: readonly string[]): LiveTokenFacts {
  return {
    jti: String(p.jti),
    iat: Number(p.iat),
    // Minted from a code or refresh token issued at or before a revocation: covered by it
    // (revocation-state.ts). Tokens from before this claim existed fall back to iat.
    sourceIat: typeof p.source_iat === 'number' ? p.source_iat : undefined,
    grantId: typeof p.grant_id === 'string' ? p.grant_id : undefined,
    userId: isUserSubject(p.sub) ? p.sub : undefined,
    clientId: String(p.client_id),
    roles: Array.isArray(p.roles) ? p.roles.map(String) : [],
    audiences: [Array.isArray(p.aud) ? String(p.aud[0]) : String(p.aud)],
    scopes: typeof p.scope === 'string' ? p.scope.split(' ').filter(Boolean) : [],
    scopeRule: 'all',
    chain,
    exchangedFrom,
    // The policy step's context when it is judged again (token-liveness.ts livePolicy).
    ...issuanceContextOf(p, tokenBindingOfClaims(p.cnf), approvalOf(p)),
  };
}
