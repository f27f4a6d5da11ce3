import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import argon2 from 'argon2';
import { createSecretVerifier, hashSecret, newClientSecret, type ClientSecrets } from '../../src/governance/client-secrets.ts';
import { ClientAuthThrottled, type ClientAuthFailureBudget } from '../../src/ratelimit/client-auth-failures.ts';
import { seal, unseal } from '../../src/keys/sealed-box.ts';
import { MasterKey } from '../../src/keys/master-key.ts';
import { currentSigningKey, keyState, type SigningKey } from '../../src/keys/signing-keys.ts';

describe('sealed box', () => {
  it('round-trips and refuses another key or another row', () => {
    const key = randomBytes(32);
    const sealed = seal(key, 'secret', 'kid-1');
    expect(unseal(key, sealed, 'kid-1')).toBe('secret');
    expect(() => unseal(randomBytes(32), sealed, 'kid-1')).toThrow();
    expect(() => unseal(key, sealed, 'kid-2')).toThrow();
  });
});

describe('master key', () => {
  it('derives distinct purpose-bound subkeys and a stable fingerprint', () => {
    const m = new MasterKey(randomBytes(32));
    expect(m.derive('a').equals(m.derive('b'))).toBe(false);
    expect(m.fingerprint()).toBe(m.fingerprint());
    expect(new MasterKey(randomBytes(32)).fingerprint()).not.toBe(m.fingerprint());
  });
});

const only = (secretHash: string): ClientSecrets => ({ secretHash, secretExpiresAt: null, previousSecretHash: null, previousSecretValidUntil: null });

describe('secret verifier', () => {
  it('pays argon2 once per secret, then rejects wrong values without argon2', async () => {
    const secret = newClientSecret();
    const hash = await hashSecret(secret);
    const spy = vi.spyOn(argon2, 'verify');
    const v = createSecretVerifier();
    expect(await Promise.all([v.verify('c', only(hash), secret, 0), v.verify('c', only(hash), secret, 0)])).toEqual(['current', 'current']);
    expect(spy).toHaveBeenCalledTimes(1); // concurrent first checks are coalesced
    expect(await v.verify('c', only(hash), secret, 0)).toBe('current');
    expect(await v.verify('c', only(hash), 'wrong', 0)).toBe(false);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });

  it('forgets a verified secret when the stored hash changes (rotation)', async () => {
    const old = newClientSecret();
    const v = createSecretVerifier();
    expect(await v.verify('c', only(await hashSecret(old)), old, 0)).toBe('current');
    const fresh = newClientSecret();
    const freshHash = await hashSecret(fresh);
    expect(await v.verify('c', only(freshHash), old, 0)).toBe(false);
    expect(await v.verify('c', only(freshHash), fresh, 0)).toBe('current');
  });

  it('spends one unit of the failure budget for a burst of first verifications, even while reading the budget takes time', async () => {
    // A budget of `limit` whose reads wait, as the shared counters' database read does.
    const budget = (limit: number) => {
      const spent: string[] = [];
      let outstanding = 0;
      const b: ClientAuthFailureBudget = {
        async spend(address) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          if (outstanding >= limit) throw new ClientAuthThrottled(60, true, limit);
          outstanding++;
          spent.push(address ?? '');
          return { succeeded: () => void outstanding-- };
        },
      };
      return { b, spent, outstanding: () => outstanding };
    };
    const secret = newClientSecret();
    const hash = await hashSecret(secret);
    const right = budget(2);
    const v = createSecretVerifier({ failures: right.b });
    const burst = await Promise.all(Array.from({ length: 8 }, () => v.verify('c', only(hash), secret, 0, '198.51.100.1')));
    expect(burst).toEqual(Array<string>(8).fill('current'));
    expect(right.spent).toHaveLength(1); // one argon2 run, one unit, given back
    expect(right.outstanding()).toBe(0);

    // Wrong: one shared argon2 run; the starter and every joiner count as failures.
    const wrong = budget(3);
    const w = createSecretVerifier({ failures: wrong.b });
    const guesses = await Promise.allSettled(Array.from({ length: 5 }, () => w.verify('c', only(hash), 'wrong', 0, '198.51.100.2')));
    expect(guesses.map((g) => (g.status === 'fulfilled' ? g.value : (g.reason as Error).name)).sort()).toEqual(['ClientAuthThrottled', 'ClientAuthThrottled', false, false, false].sort());
    expect(wrong.outstanding()).toBe(3);
  });

  it('fails closed on a malformed stored hash', async () => {
    expect(await createSecretVerifier().verify('c', only('not-a-hash'), 'x', 0)).toBe(false);
  });

  it('accepts the previous secret until its grace ends, from the cache too, and reports its use at most once a minute', async () => {
    const [old, fresh] = [newClientSecret(), newClientSecret()];
    const [oldHash, freshHash] = await Promise.all([hashSecret(old), hashSecret(fresh)]);
    const reports: string[] = [];
    const v = createSecretVerifier({ onPreviousSecret: (id) => reports.push(id) });
    const grace: ClientSecrets = { secretHash: freshHash, secretExpiresAt: null, previousSecretHash: oldHash, previousSecretValidUntil: 10_000 };
    expect(await v.verify('c', grace, old, 1_000)).toBe('previous');
    expect(await v.verify('c', grace, fresh, 1_000)).toBe('current');
    const spy = vi.spyOn(argon2, 'verify');
    expect(await v.verify('c', grace, old, 2_000)).toBe('previous'); // cached
    expect(await v.verify('c', grace, 'wrong', 2_000)).toBe(false); // both known: no argon2
    expect(spy).not.toHaveBeenCalled();
    expect(reports).toEqual(['c']); // the second use fell within the minute
    expect(await v.verify('c', grace, old, 9_999)).toBe('previous');
    // The grace has ended: the cached digest no longer lets it through.
    expect(await v.verify('c', grace, old, 10_000)).toBe(false);
    expect(await v.verify('c', grace, fresh, 10_000)).toBe('current');
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it('refuses an expired secret, cached or not, as it refuses a wrong one', async () => {
    const secret = newClientSecret();
    const hash = await hashSecret(secret);
    const v = createSecretVerifier();
    const expiring: ClientSecrets = { ...only(hash), secretExpiresAt: 5_000 };
    expect(await v.verify('c', expiring, secret, 4_999)).toBe('current');
    expect(await v.verify('c', expiring, secret, 5_000)).toBe(false);
    expect(await createSecretVerifier().verify('c', expiring, secret, 6_000)).toBe(false);
  });
});

describe('signing key states', () => {
  const key = (kid: string, activateAt: number, retireAt: number | null = null, expireAt: number | null = null): SigningKey => ({
    kid, alg: 'RS256', publicJwk: {}, privateJwk: {}, createdAt: 0, activateAt, retireAt, expireAt,
  });
  it('moves pending → active → retired → expired and signs with the newest active key', () => {
    const k = key('a', 100, 200, 300);
    expect([50, 150, 250, 350].map((t) => keyState(k, t))).toEqual(['pending', 'active', 'retired', 'expired']);
    expect(currentSigningKey([key('old', 0), key('new', 100), key('next', 500)], 200)?.kid).toBe('new');
  });
});
