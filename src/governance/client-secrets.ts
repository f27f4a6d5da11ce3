// Client identifiers and secrets. Secrets are 256-bit random values shown once and stored only
// as argon2id hashes. Verifying argon2 on every token request would cap throughput at a few
// requests per second (measured: ~7 req/s with default parameters), so after one successful
// argon2 verification we keep an HMAC of the secret under a per-process random key, bound to
// the stored hash: later requests cost one HMAC and a constant-time compare. Rotation changes
// the hash and so invalidates the entry; disabling removes the client altogether. During a
// rotation's grace both the new and the previous secret are cached; whether each is still
// accepted (expiry, end of the grace) is read from the policy snapshot on every request.
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import argon2 from 'argon2';
import { ClientAuthThrottled, unlimitedClientAuth, type ClientAuthFailureBudget } from '../ratelimit/client-auth-failures.ts';

/** OWASP Password Storage Cheat Sheet minimum for argon2id (m=19 MiB, t=2, p=1). */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const newClientId = (): string => `cl_${randomBytes(16).toString('base64url')}`;
export const newClientSecret = (): string => randomBytes(32).toString('base64url');
export const hashSecret = (secret: string): Promise<string> => argon2.hash(secret, ARGON2_OPTIONS);

/** Runs at most `limit` tasks at once: argon2 is memory- and CPU-hard by design. */
export class Semaphore {
  #active = 0;
  readonly #queue: (() => void)[] = [];
  readonly #limit: number;
  constructor(limit: number) {
    this.#limit = limit;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#limit) await new Promise<void>((resolve) => this.#queue.push(resolve));
    this.#active++;
    try {
      return await task();
    } finally {
      this.#active--;
      this.#queue.shift()?.();
    }
  }
}

/**
 * A client's shared secrets as the hot path holds them (policy-model.ts ClientDef): the current
 * one with its optional expiry, and the one a rotation with a grace replaced, until the grace
 * ends. Instants are epoch milliseconds; null = no expiry / no previous secret.
 */
export interface ClientSecrets {
  readonly secretHash: string;
  readonly secretExpiresAt: number | null;
  readonly previousSecretHash: string | null;
  readonly previousSecretValidUntil: number | null;
}

/** The secrets of a client that has any (a public client has none). */
export function clientSecretsOf(client: Omit<ClientSecrets, 'secretHash'> & { readonly secretHash: string | null } | undefined): ClientSecrets | undefined {
  if (!client || client.secretHash === null) return undefined;
  const { secretHash, secretExpiresAt, previousSecretHash, previousSecretValidUntil } = client;
  return { secretHash, secretExpiresAt, previousSecretHash, previousSecretValidUntil };
}

/** Which of the client's secrets matched. */
type SecretMatch = 'current' | 'previous';

/** The stored hashes accepted at `now`: an expired secret or a grace that ended is not among them. */
function liveSecretHashes(s: ClientSecrets, now: number): { hash: string; which: SecretMatch }[] {
  const live: { hash: string; which: SecretMatch }[] = [];
  if (s.secretExpiresAt === null || now < s.secretExpiresAt) live.push({ hash: s.secretHash, which: 'current' });
  if (s.previousSecretHash !== null && s.previousSecretValidUntil !== null && now < s.previousSecretValidUntil) live.push({ hash: s.previousSecretHash, which: 'previous' });
  return live;
}

export interface SecretVerifier {
  /**
   * Which of the client's live secrets (liveSecretHashes at `now`) `presented` is, or false.
   * Anything but an already-verified match first spends from `address`'s failure budget, and
   * throws ClientAuthThrottled when it is spent (client-auth-failures.ts). A match with the
   * previous secret is reported to `onPreviousSecret` (at most once a minute per client).
   */
  verify(clientId: string, secrets: ClientSecrets, presented: string, now: number, address?: string): Promise<SecretMatch | false>;
  /**
   * A secret presented for an unknown or disabled client: answers false as late as a wrong
   * secret would, counting from `startedAt` (performance.now() when the request came in). With
   * `address`, it spends from that address's failure budget first, as verify() does.
   */
  reject(startedAt?: number, address?: string): Promise<false>;
  forget(clientId: string): void;
}

/**
 * Reports of the previous secret's use are throttled per client: a bot that still holds it
 * sends it on every token request, and one audit record a minute says as much as thousands.
 */
const PREVIOUS_SECRET_REPORT_MS = 60_000;
/** Bounds the throttle's memory; beyond it the oldest entries go (a report may then repeat early). */
const PREVIOUS_SECRET_REPORT_MAX = 10_000;

export interface SecretVerifierOptions {
  readonly concurrency?: number;
  readonly failures?: ClientAuthFailureBudget;
  /** The previous secret of a rotation with a grace was used (client-secret-events.ts audits it). */
  readonly onPreviousSecret?: (clientId: string, address: string | undefined, validUntil: number) => void;
}

export function createSecretVerifier(options: SecretVerifierOptions = {}): SecretVerifier {
  const failures = options.failures ?? unlimitedClientAuth;
  // A KeyObject, not a Buffer: on Node 24 createHmac re-imports a Buffer key on every call
  // (measured 22.8 µs vs 4.5 µs per HMAC), which was the largest govauth-specific cost per token.
  const key = createSecretKey(randomBytes(32));
  // Per client, the digest of each stored hash's verified secret: at most two (current and,
  // during a grace, previous). Entries are bound to the hash, so a rotation invalidates them;
  // which hashes are still live is decided by the caller's snapshot on every request.
  const verified = new Map<string, { hash: string; digest: Buffer }[]>();
  const pending = new Map<string, Promise<boolean>>();
  const gate = new Semaphore(options.concurrency ?? 2);
  const digestOf = (presented: string): Buffer => createHmac('sha256', key).update(presented, 'utf8').digest();
  const reported = new Map<string, number>();
  const reportPrevious = (clientId: string, now: number, address: string | undefined, validUntil: number): void => {
    const last = reported.get(clientId);
    if (last !== undefined && now - last < PREVIOUS_SECRET_REPORT_MS) return;
    reported.delete(clientId);
    reported.set(clientId, now);
    if (reported.size > PREVIOUS_SECRET_REPORT_MAX) reported.delete(reported.keys().next().value as string);
    options.onPreviousSecret?.(clientId, address, validUntil);
  };

  // Every failed authentication takes as long as an argon2 verification, whatever the cause: an
  // unknown or disabled client (reject), a wrong secret for a client in the cache (one HMAC) or
  // for one never verified (argon2). Otherwise response time tells which client_ids exist and
  // which are in use (test/security/client-authentication.test.ts measured 5 ms against 42 ms).
  // The cheap failures wait on a timer instead of running a dummy argon2, so wrong guesses
  // still cost no CPU. The target is a moving average of real verifications, gate wait included.
  let argonMs: number | undefined;
  const timedArgon2 = async (hash: string, presented: string): Promise<boolean> => {
    const started = performance.now();
    const ok = await gate.run(() => argon2.verify(hash, presented));
    const ms = performance.now() - started; // not reached when a malformed hash throws at once
    argonMs = argonMs === undefined ? ms : argonMs * 0.8 + ms * 0.2;
    return ok;
  };
  let calibration: Promise<unknown> | undefined;
  const failAfter = async (startedAt: number): Promise<false> => {
    // Nothing measured yet (a fresh process): time one verification of a throwaway hash.
    if (argonMs === undefined) await (calibration ??= hashSecret(newClientSecret()).then((h) => timedArgon2(h, 'calibration')).catch(() => undefined));
    const left = (argonMs ?? 0) - (performance.now() - startedAt);
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    return false;
  };

  const remember = (clientId: string, hash: string, digest: Buffer): void => {
    const kept = (verified.get(clientId) ?? []).filter((e) => e.hash !== hash).slice(-1);
    verified.set(clientId, [...kept, { hash, digest }]);
  };

  const firstVerification = async (clientId: string, storedHash: string, presented: string, digest: Buffer, address: string | undefined): Promise<boolean> => {
    const spent = await failures.spend(address);
    const ok = await timedArgon2(storedHash, presented).catch(() => false); // a malformed stored hash fails closed
    if (ok) {
      remember(clientId, storedHash, digest);
      spent.succeeded();
    }
    return ok;
  };

  // Concurrent first verifications of the same (client, hash, secret) share one argon2 run. The
  // request that starts it spends from its address's budget first, so no argon2 runs for an
  // address over it, and gets the unit back on success; those that join spend only if it fails
  // (a burst of right secrets after a restart is one unit, not one each). The run is shared
  // from the start, before the budget is read (an await): otherwise a burst would each spend
  // while the first waited.
  const argon2Once = async (clientId: string, storedHash: string, presented: string, digest: Buffer, address: string | undefined): Promise<boolean> => {
    const slot = `${clientId}\0${storedHash}\0${digest.toString('base64')}`;
    for (;;) {
      let result = pending.get(slot);
      const joined = result !== undefined;
      if (!result) {
        result = firstVerification(clientId, storedHash, presented, digest, address).finally(() => pending.delete(slot));
        pending.set(slot, result);
      }
      try {
        if (await result) return true;
      } catch (err) {
        // The starter's address was over its budget, which says nothing about this one's.
        if (joined && err instanceof ClientAuthThrottled) continue;
        throw err;
      }
      if (joined) await failures.spend(address);
      return false;
    }
  };

  return {
    async verify(clientId, secrets, presented, now, address) {
      const startedAt = performance.now();
      const live = liveSecretHashes(secrets, now);
      // An expired secret, or the previous one after its grace, is no secret at all: the same
      // failure, after the same wait, as a wrong one (RFC 6749 §5.2 invalid_client).
      if (!live.length) {
        await failures.spend(address);
        return failAfter(startedAt);
      }
      const matched = (which: SecretMatch): SecretMatch => {
        if (which === 'previous') reportPrevious(clientId, now, address, secrets.previousSecretValidUntil ?? now);
        return which;
      };
      const digest = digestOf(presented);
      const known = verified.get(clientId) ?? [];
      const unverified: typeof live = [];
      for (const candidate of live) {
        const entry = known.find((e) => e.hash === candidate.hash);
        if (!entry) unverified.push(candidate);
        else if (timingSafeEqual(entry.digest, digest)) return matched(candidate.which);
      }
      // Each live secret is known and none matched: the value is wrong, no argon2 needed (only
      // the wait). During a grace with neither secret known yet, a wrong value costs one argon2
      // run per live secret and counts once per run against the address's budget.
      if (!unverified.length) {
        await failures.spend(address);
        return failAfter(startedAt);
      }
      for (const candidate of unverified) {
        if (await argon2Once(clientId, candidate.hash, presented, digest, address)) return matched(candidate.which);
      }
      return failAfter(startedAt);
    },
    async reject(startedAt = performance.now(), address) {
      await failures.spend(address);
      return failAfter(startedAt);
    },
    forget: (clientId) => void verified.delete(clientId),
  };
}
