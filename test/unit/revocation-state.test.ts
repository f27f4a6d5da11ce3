import { describe, expect, it } from 'vitest';
import { RevocationState, waitPastCutoff, type RevocationEntry } from '../../src/governance/revocation-state.ts';

const entry = (kind: RevocationEntry['kind'], key: string, cutoff: number, expiresAt = cutoff + 86_400_000): RevocationEntry => ({ id: 0, kind, key, cutoff, expiresAt, reason: null, actor: null });
const T = Date.UTC(2026, 10, 23, 12, 0, 0, 500); // x.500 s

describe('RevocationState', () => {
  const state = new RevocationState();
  state.set(entry('token', 'jti-1', T));
  state.set(entry('grant', 'g-1', T));
  state.set(entry('user', 'usr_a', T));
  state.set(entry('client', 'cl_a', T));
  state.set(entry('role', 'admin', T));
  const sec = Math.floor(T / 1000);

  it('matches tokens by jti and grant regardless of iat', () => {
    expect(state.check({ jti: 'jti-1', iat: sec + 999 })).toBe('token');
    expect(state.check({ grantId: 'g-1', iat: sec + 999 })).toBe('grant');
    expect(state.check({ jti: 'other', grantId: 'other', iat: 0 })).toBeUndefined();
  });

  it('matches principals issued at or before the cutoff second only', () => {
    for (const [facts, kind] of [
      [{ userId: 'usr_a' }, 'user'],
      [{ clientId: 'cl_a' }, 'client'],
      [{ roles: ['x', 'admin'] }, 'role'],
    ] as const) {
      expect(state.check({ ...facts, iat: sec - 10 })).toBe(kind);
      expect(state.check({ ...facts, iat: sec })).toBe(kind); // same second: fail closed
      expect(state.check({ ...facts, iat: sec + 1 })).toBeUndefined();
    }
  });

  it('covers a token signed after the cutoff from a source (code, refresh-token chain) issued at or before it', () => {
    for (const facts of [{ userId: 'usr_a' }, { clientId: 'cl_a' }, { roles: ['admin'] }]) {
      expect(state.check({ ...facts, iat: sec + 5, sourceIat: sec })).toBeDefined();
      expect(state.check({ ...facts, iat: sec + 5, sourceIat: sec - 100 })).toBeDefined();
      expect(state.check({ ...facts, iat: sec + 5, sourceIat: sec + 1 })).toBeUndefined();
    }
  });

  it('reports the latest cutoff among principals and prunes expired entries', () => {
    state.set(entry('role', 'late', T + 5000));
    expect(state.latestCutoff({ userId: 'usr_a', roles: ['late'] })).toBe(T + 5000);
    expect(state.latestCutoff({ userId: 'nobody' })).toBeUndefined();
    expect(state.prune(T + 86_400_000 + 1)).toBe(5);
    expect(state.size).toBe(1);
  });
});

describe('waitPastCutoff', () => {
  it('waits only while we are still inside the cutoff second', () => {
    expect(waitPastCutoff(undefined, T)).toBe(0);
    expect(waitPastCutoff(T, T + 100)).toBe(400); // x.600 → wait until (x+1).000
    expect(waitPastCutoff(T, T + 500)).toBe(0);
    expect(waitPastCutoff(T - 5000, T)).toBe(0);
  });
});
