// Is this JWT access token good, right now? Local signature verification (RS256 only, our keys
// only, typ at+jwt, our issuer, not expired; jose never fetches jku/x5u), then the revocation
// state and live policy, all from memory. Every token costs one RSA verification: a token that
// fails to parse is checked against a decoy, so an unknown token and a revoked one take the
// same work.
import { createLocalJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { currentUserScopes, heldScopes } from '../governance/policy-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { Keyring } from '../keys/keyring.ts';
import { SIGNING_ALG } from '../keys/signing-keys.ts';

export type InactiveReason =
  | 'invalid'
  | 'expired'
  | 'wrong_audience'
  | 'revoked_token'
  | 'revoked_grant'
  | 'revoked_user'
  | 'revoked_client'
  | 'revoked_role'
  | 'client_disabled'
  | 'user_disabled'
  | 'scope_no_longer_granted';

export type AccessTokenCheck = { active: true; claims: JWTPayload } | { active: false; reason: InactiveReason; jti?: string | undefined };

export interface AccessTokenChecker {
  check(token: string, audience: string | null): Promise<AccessTokenCheck>;
  /** Signature and issuer only (revocation: expired tokens still identify their client). */
  verifySignature(token: string): Promise<JWTPayload | undefined>;
}

export const isUserSubject = (sub: unknown): sub is string => typeof sub === 'string' && sub.startsWith('usr_');

const audienceMatches = (aud: JWTPayload['aud'], expected: string): boolean => (Array.isArray(aud) ? aud.includes(expected) : aud === expected);

export function createAccessTokenChecker(deps: { keyring: Keyring; issuer: string; policy: PolicyStore; now: () => number; decoy: string }): AccessTokenChecker {
  let jwks: JWTVerifyGetKey | undefined;
  let jwksFor = -1;
  const keys = (): JWTVerifyGetKey => {
    // Rebuilt when the keyring changes (key rotation swaps it).
    if (jwksFor !== deps.keyring.version) {
      jwks = createLocalJWKSet({ keys: deps.keyring.keys.map((k) => ({ ...k.publicJwk })) });
      jwksFor = deps.keyring.version;
    }
    return jwks as JWTVerifyGetKey;
  };

  const verify = async (token: string, checkExpiry: boolean): Promise<{ payload: JWTPayload } | { error: 'invalid' | 'expired' }> => {
    try {
      const { payload } = await jwtVerify(token, keys(), {
        issuer: deps.issuer,
        typ: 'at+jwt', // RFC 9068 §4: refuse ID tokens and other JWTs presented as access tokens
        algorithms: [SIGNING_ALG],
        requiredClaims: ['jti', 'iat', 'exp', 'client_id', 'sub', 'aud'],
        currentDate: new Date(checkExpiry ? deps.now() : 0),
      });
      return { payload };
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_JWT_EXPIRED') return { error: 'expired' };
      // Same RSA work as for a well-formed token: verify the decoy (result ignored).
      await jwtVerify(deps.decoy, keys(), { currentDate: new Date(0) }).catch(() => undefined);
      return { error: 'invalid' };
    }
  };

  return {
    async verifySignature(token) {
      const r = await verify(token, false);
      return 'payload' in r ? r.payload : undefined;
    },

    async check(token, audience) {
      const r = await verify(token, true);
      if (!('payload' in r)) return { active: false, reason: r.error };
      const p = r.payload;
      const jti = String(p.jti);
      const userId = isUserSubject(p.sub) ? p.sub : undefined;
      const clientId = String(p.client_id);
      const roles = Array.isArray(p.roles) ? p.roles.map(String) : [];
      const scopes = typeof p.scope === 'string' ? p.scope.split(' ').filter(Boolean) : [];
      const aud = Array.isArray(p.aud) ? String(p.aud[0]) : String(p.aud);
      const revoked = deps.policy.revocations.check({ jti, iat: Number(p.iat), grantId: typeof p.grant_id === 'string' ? p.grant_id : undefined, userId, clientId, roles });
      // A resource server sees only tokens for its own audience (nothing about the others').
      if (audience === null || !audienceMatches(p.aud, audience)) return { active: false, reason: 'wrong_audience', jti };
      if (revoked) return { active: false, reason: `revoked_${revoked}`, jti };

      const snapshot = deps.policy.snapshot();
      const client = snapshot.clients.get(clientId);
      if (!client || client.disabled) return { active: false, reason: 'client_disabled', jti };
      const now = deps.now();
      let allowed: Set<string>;
      if (userId) {
        const user = deps.policy.user(userId);
        if (!user || user.disabled) return { active: false, reason: 'user_disabled', jti };
        allowed = new Set(currentUserScopes(snapshot, user, client, aud, now).scopes);
      } else {
        const held = heldScopes(snapshot, client.roles, now);
        const resource = snapshot.resources.get(aud);
        allowed = new Set([...held.keys()].filter((s) => resource?.scopes.has(s) && (client.scopeCeiling === null || client.scopeCeiling.has(s))));
      }
      // A role grant revoked or expired, a role changed, a scope removed from the resource:
      // the token no longer reflects policy.
      if (!scopes.every((s) => allowed.has(s))) return { active: false, reason: 'scope_no_longer_granted', jti };
      return { active: true, claims: p };
    },
  };
}
