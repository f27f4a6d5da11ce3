// The two WebAuthn ceremonies (registration, authentication) through @simplewebauthn/server,
// with govauth's choices: user verification required (a passkey is then a multi-factor
// credential on its own), discoverable credentials (passwordless sign-in needs the key to know
// the account, WebAuthn L3 §6.2.2), no attestation (we trust no vendor list; attestation
// "none", §5.4.7), and the origin and RP id fixed by the issuer (webauthn-config.ts). Every
// refusal is given a stable reason that the audit trail records.
import { randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { PasskeyRow } from '../db/passkey-repository.ts';

export interface RelyingParty {
  readonly rpId: string;
  /** The issuer's origin: the only one a ceremony may come from. */
  readonly origin: string;
}

/** Why a ceremony was refused (audit detail `reason`). */
export type CeremonyRefusal =
  | 'malformed'
  | 'no_challenge'
  | 'wrong_challenge'
  | 'wrong_origin'
  | 'wrong_rp_id'
  | 'wrong_type'
  | 'user_not_verified'
  | 'bad_signature'
  | 'unknown_credential'
  | 'not_your_credential'
  | 'counter_regression'
  | 'replayed'
  | 'duplicate_credential'
  | 'account_disabled';

/** Ceremonies time out in the browser after this long; the stored challenge a little later. */
export const CEREMONY_TIMEOUT_MS = 120_000;

const newChallenge = (): Uint8Array<ArrayBuffer> => new Uint8Array(randomBytes(32));

/** Maps the library's messages to a reason; anything unrecognised is a bad response. */
function refusalOf(err: unknown): CeremonyRefusal {
  const m = err instanceof Error ? err.message : '';
  if (/counter value/i.test(m)) return 'counter_regression';
  if (/challenge/i.test(m)) return 'wrong_challenge';
  if (/origin/i.test(m)) return 'wrong_origin';
  if (/RP ID/i.test(m)) return 'wrong_rp_id';
  if (/response type/i.test(m)) return 'wrong_type';
  if (/user verification|could not be verified|not present/i.test(m)) return 'user_not_verified';
  if (/signature/i.test(m)) return 'bad_signature';
  return 'malformed';
}

export async function registrationOptions(
  rp: RelyingParty,
  user: { id: string; email: string },
  existing: readonly { credentialId: string; transports: string }[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: 'govauth',
    rpID: rp.rpId,
    userName: user.email,
    userDisplayName: user.email,
    // The user handle: our account id, never the email (WebAuthn L3 §14.6.1, no PII).
    userID: new TextEncoder().encode(user.id),
    challenge: newChallenge(),
    timeout: CEREMONY_TIMEOUT_MS,
    attestationType: 'none',
    // The same authenticator twice adds nothing (§5.4.3 excludeCredentials).
    excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: parseTransports(c.transports) })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
}

/** Options for a sign-in: any discoverable passkey (passwordless), or one of `allow` (step-up). */
export async function authenticationOptions(rp: RelyingParty, allow?: readonly { credentialId: string; transports: string }[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: rp.rpId,
    challenge: newChallenge(),
    timeout: CEREMONY_TIMEOUT_MS,
    userVerification: 'required',
    allowCredentials: allow?.map((c) => ({ id: c.credentialId, transports: parseTransports(c.transports) })),
  });
}

/** A verified registration: the columns of the passkey it becomes (the stored form: base64url key, JSON transports). */
export type NewCredential = Pick<PasskeyRow, 'credentialId' | 'publicKey' | 'counter' | 'transports' | 'aaguid' | 'backupEligible' | 'backedUp'>;

/** Parses a response posted by the browser (a JSON string); undefined when it is not one. */
export function parseCredentialJson(raw: string | undefined): { id: string } & Record<string, unknown> | undefined {
  if (!raw || raw.length > 64 * 1024) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'object' || v === null || typeof (v as { id?: unknown }).id !== 'string') return undefined;
    const id = (v as { id: string }).id;
    return /^[A-Za-z0-9_-]{1,1366}$/.test(id) ? (v as { id: string } & Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function checkRegistration(
  rp: RelyingParty,
  response: Record<string, unknown>,
  expectedChallenge: string,
): Promise<{ ok: true; credential: NewCredential } | { ok: false; reason: CeremonyRefusal }> {
  try {
    const result = await verifyRegistrationResponse({
      response: response as unknown as RegistrationResponseJSON,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpId,
      requireUserVerification: true,
    });
    if (!result.verified) return { ok: false, reason: 'bad_signature' };
    const info = result.registrationInfo;
    return {
      ok: true,
      credential: {
        credentialId: info.credential.id,
        publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
        counter: BigInt(info.credential.counter),
        transports: JSON.stringify(info.credential.transports ?? []),
        aaguid: info.aaguid,
        backupEligible: info.credentialDeviceType === 'multiDevice',
        backedUp: info.credentialBackedUp,
      },
    };
  } catch (err) {
    return { ok: false, reason: refusalOf(err) };
  }
}

export async function checkAssertion(
  rp: RelyingParty,
  response: Record<string, unknown>,
  expectedChallenge: string,
  stored: { credentialId: string; publicKey: string; counter: bigint; transports: string },
): Promise<{ ok: true; counter: bigint; backedUp: boolean; userVerified: boolean } | { ok: false; reason: CeremonyRefusal }> {
  try {
    const result = await verifyAuthenticationResponse({
      response: response as unknown as AuthenticationResponseJSON,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpId,
      requireUserVerification: true,
      credential: {
        id: stored.credentialId,
        publicKey: new Uint8Array(Buffer.from(stored.publicKey, 'base64url')),
        // The library compares numbers; counters are at most 2^32-1 (WebAuthn §6.1), exact in a double.
        counter: Number(stored.counter),
        transports: parseTransports(stored.transports),
      },
    });
    if (!result.verified) return { ok: false, reason: 'bad_signature' };
    const info = result.authenticationInfo;
    return { ok: true, counter: BigInt(info.newCounter), backedUp: info.credentialBackedUp, userVerified: info.userVerified };
  } catch (err) {
    return { ok: false, reason: refusalOf(err) };
  }
}

function parseTransports(stored: string): AuthenticatorTransportFuture[] {
  try {
    const v: unknown = JSON.parse(stored);
    return Array.isArray(v) ? v.filter((t): t is AuthenticatorTransportFuture => typeof t === 'string') : [];
  } catch {
    return [];
  }
}
