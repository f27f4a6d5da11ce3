// Replaying governance state from audit records (src/audit/audit-history.ts): the value of an item
// at T, the expiry sweep's delta records, and changes made outside govauth.
import { describe, expect, it } from 'vitest';
import { ABSENT, buildHistory, grantIn, intervalOf, itemKey } from '../../src/audit/audit-history.ts';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const rec = (seq: number, s: number, action: string, subject: string, detail: unknown) => ({ seq, at: at(s), action, subject, detail: JSON.stringify(detail) });
const role = itemKey('role', 'analyst', 'scopes');
const roles = itemKey('user', 'usr_a', 'roles');

describe('buildHistory', () => {
  it('takes the after of the last change at or before T, else the before of the first after it', () => {
    const h = buildHistory(
      [rec(1, 10, 'admin.role.create', 'analyst', { before: null, after: { name: 'analyst', scopes: ['a'] } }), rec(2, 20, 'admin.role.update', 'analyst', { before: { scopes: ['a'] }, after: { scopes: ['a', 'b'] } })],
      new Map([[role, ['a', 'b']]]),
    );
    expect(h.valueAt(role, at(5).getTime())).toBe(ABSENT);
    expect(h.valueAt(role, at(10).getTime())).toEqual(['a']);
    expect(h.valueAt(role, at(25).getTime())).toEqual(['a', 'b']);
    expect(intervalOf(h, role, at(25).getTime(), (v) => Array.isArray(v) && (v as string[]).includes('b'))).toEqual({ since: at(20).toISOString(), until: null });
    expect(h.inconsistencies).toEqual([]);
  });

  it('puts an expired grant the sweeper deleted back into the state before the sweep', () => {
    const grant = { role: 'analyst', expires_at: at(30).toISOString() };
    const h = buildHistory(
      [
        rec(1, 10, 'admin.role_grant.create', 'usr_a', { before: [], after: [{ ...grant, reason: null, granted_at: at(10).toISOString() }] }),
        rec(2, 40, 'role_grant.expired', 'usr_a', { principal_type: 'user', role: 'analyst', expired_at: grant.expires_at }),
      ],
      new Map([[roles, []]]),
    );
    expect(grantIn(h.valueAt(roles, at(20).getTime()), 'analyst', at(20).getTime())).toEqual(grant);
    // Expired at its instant, before the sweep ran.
    expect(grantIn(h.valueAt(roles, at(35).getTime()), 'analyst', at(35).getTime())).toBeUndefined();
    const held = (v: unknown, t: number) => grantIn(v as never, 'analyst', t) !== undefined;
    expect(intervalOf(h, roles, at(20).getTime(), held, () => Date.parse(grant.expires_at))).toEqual({ since: at(10).toISOString(), until: at(30).toISOString() });
  });

  it('names a change made outside govauth: a recorded after that the next state contradicts', () => {
    const h = buildHistory([rec(7, 10, 'admin.role.create', 'analyst', { before: null, after: { scopes: ['a'] } })], new Map([[role, ['a', 'admin']]]));
    expect(h.inconsistencies).toEqual([{ key: role, seq: 7 }]);
  });
});
