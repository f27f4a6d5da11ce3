// Governance state at a past instant, replayed from the audit trail. Every administrative change
// is recorded with the state before and after it (adminEvent in audit-chain.ts), so the value of
// any item at time T is the "after" of its last change at or before T, or else the "before" of
// its first change after T, or else (never changed in the retained trail) its current value.
// Replaying backwards from the current database state also fills in the changes that record a
// delta only (role_grant.expired) and detects changes made outside govauth (a recorded "after"
// that does not match what the next change found).
import type { AuditRecord } from './audit-chain.ts';

/** An item that did not exist (before its creation). */
export const ABSENT = Symbol('absent');
export type Grant = { readonly role: string; readonly expires_at: string | null };
export type Value = readonly string[] | readonly Grant[] | boolean | null | typeof ABSENT;

/** The actions whose records change what someone may hold; read by replay. */
export const GOVERNANCE_ACTIONS = [
  'admin.role.create', 'admin.role.update', 'admin.role.include', 'admin.role.exclude', 'admin.resource.create', 'admin.resource.update',
  'admin.user.create', 'admin.user.disable', 'admin.user.enable', 'admin.user.set_roles', 'admin.user.set_password', 'admin.user.mfa_enroll', 'admin.user.mfa_reset',
  'admin.client.create', 'admin.client.update', 'admin.client.disable', 'admin.client.enable', 'admin.client.admin_access',
  'admin.role_grant.create', 'admin.role_grant.remove', 'role_grant.expired',
] as const;

/** Items: `role|<name>|scopes|includes`, `resource|<aud>|scopes`, `user|<id>|roles|disabled`, `client|<id>|roles|disabled|ceiling|admin_access`. */
export const itemKey = (kind: string, id: string, field: string): string => `${kind}\u0000${id}\u0000${field}`;

interface Change {
  readonly seq: number;
  readonly at: number;
  readonly key: string;
  before: Value | undefined;
  after: Value | undefined;
  /** role_grant.expired: the grant the sweeper deleted (its record holds no before/after). */
  readonly expired?: Grant;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const normalizeGrants = (list: unknown): Grant[] =>
  (Array.isArray(list) ? list : [])
    .filter(isObject)
    .map((g) => ({ role: String(g.role), expires_at: typeof g.expires_at === 'string' ? g.expires_at : null }))
    .sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
const sortedStrings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String).sort() : []);

const FIELDS: Record<string, Record<string, (v: unknown) => Value>> = {
  // includes: the roles it includes (role-inclusions.ts records before/after { includes }).
  role: { scopes: sortedStrings, includes: sortedStrings },
  resource: { scopes: sortedStrings },
  user: { roles: normalizeGrants, disabled: Boolean },
  client: { roles: normalizeGrants, disabled: Boolean, scope_ceiling: (v) => (v === null ? null : sortedStrings(v)), admin_access: Boolean },
};

/** The changes one record makes, by item. Exported for tests. */
function changesOf(r: Pick<AuditRecord, 'seq' | 'at' | 'action' | 'subject' | 'detail'>): Change[] {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(r.detail) as Record<string, unknown>;
  } catch {
    return [];
  }
  const subject = r.subject ?? '';
  const base = { seq: r.seq, at: r.at.getTime() };
  if (r.action === 'role_grant.expired') {
    const kind = d.principal_type === 'client' ? 'client' : 'user';
    const expired = { role: String(d.role), expires_at: typeof d.expired_at === 'string' ? d.expired_at : null };
    return [{ ...base, key: itemKey(kind, subject, 'roles'), before: undefined, after: undefined, expired }];
  }
  if (r.action.startsWith('admin.role_grant.')) {
    // Principal ids say their kind: people are usr_… (user-registry.ts newUserId), clients cl_….
    const kind = subject.startsWith('usr_') ? 'user' : 'client';
    return [{ ...base, key: itemKey(kind, subject, 'roles'), before: normalizeGrants(d.before), after: normalizeGrants(d.after) }];
  }
  const kind = r.action.split('.')[1] ?? '';
  const fields = FIELDS[kind];
  if (!fields) return [];
  const side = (v: unknown, field: string, parse: (v: unknown) => Value): Value | undefined => {
    if (v === null || v === undefined) return ABSENT; // created by this change
    return isObject(v) && field in v ? parse(v[field]) : undefined;
  };
  const out: Change[] = [];
  for (const [field, parse] of Object.entries(fields)) {
    const before = side(d.before, field, parse);
    const after = side(d.after, field, parse);
    // A field neither side names is untouched by this change (admin.client.disable names only `disabled`).
    if ((before === undefined || before === ABSENT) && (after === undefined || after === ABSENT)) continue;
    out.push({ ...base, key: itemKey(kind, subject, field === 'scope_ceiling' ? 'ceiling' : field), before, after });
  }
  return out;
}

const same = (a: Value | undefined, b: Value | undefined): boolean => (a === ABSENT || b === ABSENT ? a === b : JSON.stringify(a) === JSON.stringify(b));

export interface History {
  /** The item's value at `at` (ms). */
  valueAt(key: string, at: number): Value;
  /** Changes of one item, oldest first. */
  changes(key: string): readonly Change[];
  /** Items whose recorded state disagrees with the next change's (changed outside govauth). */
  readonly inconsistencies: readonly { key: string; seq: number }[];
}

/** Replays `records` (chain order) backwards from `current` (the database now). */
export function buildHistory(records: readonly Pick<AuditRecord, 'seq' | 'at' | 'action' | 'subject' | 'detail'>[], current: ReadonlyMap<string, Value>): History {
  const byKey = new Map<string, Change[]>();
  for (const r of records) for (const c of changesOf(r)) byKey.set(c.key, [...(byKey.get(c.key) ?? []), c]);
  const inconsistencies: { key: string; seq: number }[] = [];
  for (const [key, changes] of byKey) {
    let value: Value = current.has(key) ? (current.get(key) as Value) : ABSENT;
    for (let i = changes.length - 1; i >= 0; i--) {
      const c = changes[i] as Change;
      if (c.expired) {
        const expired = c.expired;
        const grants = value === ABSENT ? [] : (value as Grant[]);
        c.after = value;
        c.before = normalizeGrants([...grants.filter((g) => g.role !== expired.role), expired]);
      } else {
        if (c.after === undefined) c.after = value;
        else if (!same(c.after, value)) inconsistencies.push({ key, seq: c.seq });
        if (c.before === undefined) c.before = c.after; // a field this change does not state
      }
      value = c.before;
    }
  }
  return {
    valueAt(key, at) {
      const changes = byKey.get(key);
      if (!changes?.length) return current.has(key) ? (current.get(key) as Value) : ABSENT;
      let last: Change | undefined;
      for (const c of changes) if (c.at <= at) last = c;
      return (last ? last.after : changes[0]?.before) as Value;
    },
    changes: (key) => byKey.get(key) ?? [],
    inconsistencies,
  };
}

/** A grant of `role` in force at `at` (ms): present and not expired. */
export const grantIn = (value: Value | undefined, role: string, at: number): Grant | undefined => {
  if (!Array.isArray(value)) return undefined;
  const g = (value as Grant[]).find((x) => x.role === role);
  return g && (g.expires_at === null || Date.parse(g.expires_at) > at) ? g : undefined;
};

export interface Interval {
  /** When it began (the change that made it hold); null: before the retained history. */
  since: string | null;
  /** When it ended or will end (removal, expiry); null: still in force, no end set. */
  until: string | null;
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** Since/until of a condition on an item that holds at `at`. `holds(value, instant)`. */
export function intervalOf(history: History, key: string, at: number, holds: (v: Value | undefined, instant: number) => boolean, endOf?: (v: Value | undefined) => number | null): Interval {
  const changes = history.changes(key);
  let since: number | null = null;
  for (let i = changes.length - 1; i >= 0; i--) {
    const c = changes[i] as Change;
    if (c.at > at) continue;
    if (!holds(c.before, c.at)) {
      since = c.at;
      break;
    }
  }
  let end = endOf?.(history.valueAt(key, at)) ?? null;
  for (const c of changes) {
    if (c.at <= at) continue;
    if (end !== null && end <= c.at) break;
    if (!holds(c.after, c.at)) {
      end = c.at;
      break;
    }
    end = endOf?.(c.after) ?? null;
  }
  return { since: iso(since), until: iso(end) };
}
