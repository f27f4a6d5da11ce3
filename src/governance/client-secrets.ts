// Client identifiers and secrets. Secrets are 256-bit random values shown once and stored only
// as argon2id hashes. Verifying argon2 on every token request would cap throughput at a few
// requests per second (measured: ~7 req/s with default parameters), so after one successful
// argon2 verification we keep an HMAC of the secret under a per-process random key, bound to
// the stored hash: later requests cost one HMAC and a constant-time compare. Rotation changes
// the hash and so invalidates the entry; disabling removes the client altogether.
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

export interface SecretVerifier {
  /**
   * Whether `presented` is the client's secret. Anything but an already-verified match first
   * spends from `address`'s failure budget, and throws ClientAuthThrottled when it is spent
   * (client-auth-failures.ts).
   */
  verify(clientId: string, storedHash: string, presented: string, address?: string): Promise<boolean>;
  /**
   * A secret presented for an unknown or disabled client: answers false as late as a wrong
   * secret would, counting from `startedAt` (performance.now() when the request came in). With
   * `address`, it spends from that address's failure budget first, as verify() does.
   */
  reject(startedAt?: number, address?: string): Promise<false>;
  forget(clientId: string): void;
}

export function createSecretVerifier(options: { concurrency?: number; failures?: ClientAuthFailureBudget } = {}): SecretVerifier {
  const failures = options.failures ?? unlimitedClientAuth;
  // A KeyObject, not a Buffer: on Node 24 createHmac re-imports a Buffer key on every call
  // (measured 22.8 µs vs 4.5 µs per HMAC), which was the largest govauth-specific cost per token.
  const key = createSecretKey(randomBytes(32));
  const verified = new Map<string, { hash: string; digest: Buffer }>();
  const pending = new Map<string, Promise<boolean>>();
  const gate = new Semaphore(options.concurrency ?? 2);
  const digestOf = (presented: string): Buffer => createHmac('sha256', key).update(presented, 'utf8').digest();

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

  const firstVerification = async (clientId: string, storedHash: string, presented: string, digest: Buffer, address: string | undefined): Promise<boolean> => {
    const spent = await failures.spend(address);
    const ok = await timedArgon2(storedHash, presented).catch(() => false); // a malformed stored hash fails closed
    if (ok) {
      verified.set(clientId, { hash: storedHash, digest });
      spent.succeeded();
    }
    return ok;
  };

  return {
    async verify(clientId, storedHash, presented, address) {
      const startedAt = performance.now();
      const digest = digestOf(presented);
      const known = verified.get(clientId);
      if (known?.hash === storedHash) {
        if (timingSafeEqual(known.digest, digest)) return true;
        // A client has exactly one valid secret, so once it is known any other value is wrong:
        // no argon2 for wrong guesses either (only the wait above). The failure still counts.
        await failures.spend(address);
        return failAfter(startedAt);
      }
      // Concurrent first verifications of the same (client, secret) share one argon2 run. The
      // request that starts it spends from its address's budget first, so no argon2 runs for
      // an address over it, and gets the unit back on success; those that join spend only if
      // it fails (a burst of right secrets after a restart is one unit, not one each). The run
      // is shared from the start, before the budget is read (an await): otherwise a burst
      // would each spend while the first waited.
      const slot = `${clientId}\0${digest.toString('base64')}`;
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
        return failAfter(startedAt);
      }
    },
    async reject(startedAt = performance.now(), address) {
      await failures.spend(address);
      return failAfter(startedAt);
    },
    forget: (clientId) => void verified.delete(clientId),
  };
}
