// Signed checkpoints of the audit chain: a compact JWS (RFC 7515) over (seq, head hash, time),
// signed with the dedicated audit key (src/keys/audit-key.ts). Kept outside the database (a
// file, a webhook, a ticket), it lets anyone holding the published audit public key show later,
// offline, that the trail had that head at that time; `audit verify --checkpoint <jws>` then
// proves the chain still contains that head, so rewriting the chain after it (recomputing every
// hash) is detected. Taking a checkpoint appends an `audit.checkpoint` record naming it, in the
// same locked transaction that reads the head, so the chain itself knows when they were taken.
import { readFileSync } from 'node:fs';
import { decodeProtectedHeader, errors, jwtVerify, createLocalJWKSet, importJWK, SignJWT, type JWK } from 'jose';
import { auditLogTransaction } from '../db/audit-log.ts';
import type { Database } from '../db/database.ts';
import { AUDIT_KEY_ALG, currentAuditKey } from '../keys/audit-key.ts';
import type { MasterKey } from '../keys/master-key.ts';
import type { Actor } from './audit-chain.ts';
import type { Checkpoint } from './audit-verify.ts';

/** The JWS `typ` (RFC 8725 §3.11): a checkpoint can never be mistaken for any other JWT. */
const CHECKPOINT_TYP = 'govauth-audit-checkpoint+jwt';
const CHECKPOINT_ACTION = 'audit.checkpoint';

export interface SignedCheckpoint extends Checkpoint {
  readonly jws: string;
  readonly kid: string;
  /** When the head was read (the JWS's iat, in seconds). */
  readonly at: Date;
}

export interface CheckpointOptions {
  readonly issuer: string;
  readonly by: Actor;
  /** When the head is read (ms since the epoch): the checkpoint's iat and its record's time. */
  readonly now: number;
  /**
   * Periodic writers: skip (return undefined) when a checkpoint by the same actor was taken less
   * than this long ago. Checked under the chain's lock, so of several instances ticking in the
   * same period exactly one writes.
   */
  readonly skipIfWithinMs?: number;
}

/** Signs the current head of the chain and records that it did. */
export async function takeCheckpoint(db: Database, master: MasterKey, options: CheckpointOptions): Promise<SignedCheckpoint | undefined> {
  const { now } = options;
  const key = await currentAuditKey(db, master, now);
  const signer = await importJWK(key.privateJwk, AUDIT_KEY_ALG);
  return auditLogTransaction(db, async (log) => {
    if (options.skipIfWithinMs !== undefined) {
      const last = await log.lastAt(CHECKPOINT_ACTION, options.by.actor ?? null);
      if (last && now - last.getTime() < options.skipIfWithinMs) return undefined;
    }
    const head = await log.head();
    const iat = Math.floor(now / 1000);
    const jws = await new SignJWT({ seq: head.seq, hash: head.hash })
      .setProtectedHeader({ alg: AUDIT_KEY_ALG, kid: key.kid, typ: CHECKPOINT_TYP })
      .setIssuer(options.issuer)
      .setIssuedAt(iat)
      .sign(signer);
    await log.append([{ ...options.by, action: CHECKPOINT_ACTION, detail: { seq: head.seq, hash: head.hash, kid: key.kid, iat } }], new Date(now));
    return { seq: head.seq, hash: head.hash, jws, kid: key.kid, at: new Date(iat * 1000) };
  });
}

/** A checkpoint that is not one (bad signature, unknown key, wrong alg or shape). */
export class CheckpointRefused extends Error {}

export const looksLikeJws = (text: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(text.trim());

export interface VerifiedCheckpoint extends Checkpoint {
  readonly kid: string;
  readonly iss: string;
  readonly at: Date;
}

/**
 * Verifies a checkpoint JWS against audit public keys (the published set, or one an auditor
 * pinned): only ES256 with a kid from `keys` and the checkpoint typ; then the claims' shape.
 * Every refusal says why; none is a stack trace.
 */
export async function verifyCheckpointJws(jws: string, keys: readonly JWK[]): Promise<VerifiedCheckpoint> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws.trim());
  } catch {
    throw new CheckpointRefused('the checkpoint is not a compact JWS (three base64url parts separated by dots)');
  }
  // RFC 8725 §3.1: the verifier, not the token, picks the algorithm. "none" would prove nothing.
  if (header.alg !== AUDIT_KEY_ALG) throw new CheckpointRefused(`the checkpoint is signed with alg ${JSON.stringify(header.alg)}; audit checkpoints are ${AUDIT_KEY_ALG} only`);
  if (header.typ !== CHECKPOINT_TYP) throw new CheckpointRefused(`the checkpoint's typ is ${JSON.stringify(header.typ)}, not ${CHECKPOINT_TYP}`);
  if (typeof header.kid !== 'string' || !keys.some((k) => k.kid === header.kid)) {
    throw new CheckpointRefused(`the checkpoint is signed by key ${JSON.stringify(header.kid)}, which is not one of the audit keys (${keys.map((k) => k.kid).join(', ') || 'none published'})`);
  }
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(jws.trim(), createLocalJWKSet({ keys: keys.map((k) => ({ ...k })) }), { algorithms: [AUDIT_KEY_ALG], typ: CHECKPOINT_TYP }));
  } catch (err) {
    if (err instanceof errors.JWSSignatureVerificationFailed) throw new CheckpointRefused('the checkpoint signature does not verify: it was altered, or signed with another key');
    throw new CheckpointRefused(`the checkpoint is not valid: ${(err as Error).message}`);
  }
  const { seq, hash, iss, iat } = payload;
  if (!Number.isSafeInteger(seq) || (seq as number) < 0 || typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash) || typeof iss !== 'string' || typeof iat !== 'number') {
    throw new CheckpointRefused('the checkpoint lacks seq, hash, iss or iat');
  }
  return { seq: seq as number, hash, iss, kid: header.kid, at: new Date(iat * 1000) };
}

/** The `iss` of checkpoints: the configured issuer, or a fixed name when none is configured. */
export const checkpointIssuer = (config: { readonly issuer: string | undefined }): string => config.issuer ?? 'urn:govauth:audit';

/** An auditor's pinned copy of the audit keys (a JWKS file, as served at the well-known URL). */
export function readJwksFile(file: string): JWK[] {
  let parsed: { keys?: unknown } | undefined;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
  } catch (err) {
    throw new CheckpointRefused(`cannot read the audit keys from ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed?.keys)) throw new CheckpointRefused(`${file} is not a JWKS ({"keys": [...]})`);
  return parsed.keys as JWK[];
}
