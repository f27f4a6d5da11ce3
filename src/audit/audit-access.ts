// "Who could access resource R with scope S at time T, and through which role or grant?"
// (`govauth audit access`, GET /admin/v1/audit/access). Reconstructed from the audit trail's
// administrative records (audit-history.ts) with the decision rules of policy-model.ts: S must be
// offered on R; a principal holds S through a role that carries S and that it holds (a grant not
// yet expired); it must not be disabled; a client's ceiling must admit S; the admin audience
// needs admin access. People act through apps (authorization_code clients), so the apps that
// could request S are listed, and a person with no such app is reported as blocked. A principal
// may also hold S on R through a time-boxed scope grant (scope-grant-history.ts).
import { findAuditRecords, firstAuditRecord, readAuditAnchor } from '../db/audit-log-reads.ts';
import { GENESIS } from '../db/audit-record.ts';
import type { Database } from '../db/database.ts';
import { ADMIN_AUDIENCE } from '../governance/policy-model.ts';
import { listClients } from '../governance/client-registry.ts';
import { listResources, listRoles } from '../governance/catalog.ts';
import { listUsers } from '../governance/user-registry.ts';
import { inclusionsFrom, reachableRoles, type Inclusions } from '../governance/role-hierarchy.ts';
import { inclusionRows } from '../db/role-hierarchy-repository.ts';
import { MAX_TTL_SECONDS } from '../config/token-limits.ts';
import { scopeGrantsAt, type ScopeGrantPath } from './scope-grant-history.ts';
import { ABSENT, buildHistory, GOVERNANCE_ACTIONS, grantIn, intervalOf, itemKey, normalizeGrants, type Grant, type History, type Interval, type Value } from './audit-history.ts';

export interface AccessPath {
  readonly role: string;
  /** The role reached through the granted role's inclusions that carries the scope; absent: the granted role itself. */
  readonly included_role?: string;
  /** The principal's grant of the role. */
  readonly grant: Interval & { readonly expires_at: string | null };
  /** The role carrying the scope. */
  readonly role_scope: Interval;
}

export interface PrincipalAccess {
  readonly type: 'user' | 'client';
  readonly id: string;
  readonly name: string;
  readonly paths: AccessPath[];
  /** A time-boxed grant of exactly this scope on this resource in force then (an approved access request). */
  readonly scope_grants: ScopeGrantPath[];
  /** Why a principal holding a path could not use it at T (empty: it could). */
  readonly blocked: string[];
  /** Revocations in force at T: tokens issued before `cutoff` were dead. */
  readonly revocations: { cutoff: string; reason: string | null }[];
}

interface LiveToken {
  readonly jti: string | null;
  readonly client_id: string | null;
  readonly sub: string | null;
  readonly issued_at: string;
  readonly expires_at: string;
}

export interface AccessReport {
  readonly resource: string;
  readonly scope: string;
  readonly at: string;
  /** Whether R offered S at T, and since/until when. */
  readonly scope_on_resource: (Interval & { offered: true }) | { offered: false };
  readonly could_access: PrincipalAccess[];
  readonly blocked: PrincipalAccess[];
  /** Apps (authorization_code clients) through which a person could request S at T. */
  readonly apps: { client_id: string; name: string }[];
  /** Access tokens for R carrying S that were live at T (from the token.issued records). */
  readonly tokens: { live: LiveToken[]; truncated: boolean };
  readonly history: { complete: boolean; anchor: { seq: number; hash: string } | null; first_seq: number | null; first_at: string | null; caveats: string[] };
}

const MAX_TOKENS = 200;

async function currentState(db: Database): Promise<{ values: Map<string, Value>; names: Map<string, string>; grantTypes: Map<string, string[]> }> {
  const [roles, resources, users, clients, edges] = await Promise.all([listRoles(db), listResources(db), listUsers(db), listClients(db), inclusionRows(db)]);
  const inclusions = inclusionsFrom(edges);
  const values = new Map<string, Value>();
  const names = new Map<string, string>();
  const grantTypes = new Map<string, string[]>();
  for (const r of roles) {
    values.set(itemKey('role', r.name, 'scopes'), [...r.scopes].sort());
    values.set(itemKey('role', r.name, 'includes'), [...(inclusions.get(r.name) ?? [])].sort());
  }
  for (const r of resources) values.set(itemKey('resource', r.audience, 'scopes'), [...r.scopes].sort());
  for (const u of users) {
    values.set(itemKey('user', u.id, 'roles'), normalizeGrants(u.roles));
    values.set(itemKey('user', u.id, 'disabled'), u.disabled);
    names.set(u.id, u.email);
  }
  for (const c of clients) {
    values.set(itemKey('client', c.client_id, 'roles'), normalizeGrants(c.roles));
    values.set(itemKey('client', c.client_id, 'disabled'), c.disabled);
    values.set(itemKey('client', c.client_id, 'ceiling'), c.scope_ceiling === null ? null : [...c.scope_ceiling].sort());
    values.set(itemKey('client', c.client_id, 'admin_access'), c.admin_access);
    names.set(c.client_id, c.name);
    grantTypes.set(c.client_id, c.grant_types);
  }
  return { values, names, grantTypes };
}

/** role → the roles it included at `at`, as replayed from the trail. */
const inclusionsAt = (history: History, at: number): Pick<Inclusions, 'get'> => {
  const out = new Map<string, ReadonlySet<string>>();
  return {
    get: (role: string) => {
      let found = out.get(role);
      if (!found) {
        const v = history.valueAt(itemKey('role', role, 'includes'), at);
        found = new Set(Array.isArray(v) ? (v as string[]) : []);
        out.set(role, found);
      }
      return found;
    },
  };
};

const contains = (scope: string) => (v: Value | undefined): boolean => Array.isArray(v) && (v as string[]).includes(scope);

function pathsOf(history: History, kind: 'user' | 'client', id: string, scope: string, at: number): AccessPath[] {
  const key = itemKey(kind, id, 'roles');
  const grants = history.valueAt(key, at);
  if (!Array.isArray(grants)) return [];
  const paths: AccessPath[] = [];
  for (const g of grants as Grant[]) {
    if (!grantIn(grants, g.role, at)) continue; // expired at T: not held (policy-model.ts heldScopes)
    // The granted role and the roles it included at T (role-hierarchy.ts), each carrying S or not.
    for (const carrier of reachableRoles(inclusionsAt(history, at), g.role)) {
      const roleKey = itemKey('role', carrier, 'scopes');
      if (!contains(scope)(history.valueAt(roleKey, at))) continue;
      const grant = intervalOf(history, key, at, (v, t) => grantIn(v, g.role, t) !== undefined, (v) => {
        const e = Array.isArray(v) ? (v as Grant[]).find((x) => x.role === g.role)?.expires_at : null;
        return e ? Date.parse(e) : null;
      });
      paths.push({ role: g.role, ...(carrier !== g.role && { included_role: carrier }), grant: { ...grant, expires_at: g.expires_at }, role_scope: intervalOf(history, roleKey, at, contains(scope)) });
    }
  }
  return paths;
}

async function revocationsAt(db: Database, at: number): Promise<Map<string, { cutoff: string; reason: string | null }[]>> {
  const rows = await findAuditRecords(db, { actions: ['revocation.user', 'revocation.client'], atMost: new Date(at) }, 'asc');
  const out = new Map<string, { cutoff: string; reason: string | null }[]>();
  for (const r of rows) {
    const d = JSON.parse(r.detail) as { cutoff?: string; in_force_until?: string; reason?: string | null };
    if (!r.subject || !d.cutoff || !d.in_force_until || Date.parse(d.in_force_until) <= at) continue;
    out.set(r.subject, [...(out.get(r.subject) ?? []), { cutoff: d.cutoff, reason: d.reason ?? null }]);
  }
  return out;
}

/** Access tokens for the resource carrying the scope and live at `at`: issued at most MAX_TTL before it. */
async function liveTokens(db: Database, resource: string, scope: string, at: number): Promise<{ live: LiveToken[]; truncated: boolean }> {
  const live: LiveToken[] = [];
  let after = 0;
  for (;;) {
    const rows = await findAuditRecords(db, { actions: ['token.issued', 'token.refreshed'], since: new Date(at - MAX_TTL_SECONDS * 1000), atMost: new Date(at), afterSeq: after }, 'asc', 1000);
    for (const r of rows) {
      const d = JSON.parse(r.detail) as { aud?: unknown; scopes?: unknown; lifetime?: unknown; jti?: unknown; sub?: unknown; client_id?: unknown };
      const aud = Array.isArray(d.aud) ? d.aud : [d.aud];
      const expires = r.at.getTime() + (typeof d.lifetime === 'number' ? d.lifetime * 1000 : 0);
      if (!aud.includes(resource) || !Array.isArray(d.scopes) || !d.scopes.includes(scope) || expires <= at) continue;
      if (live.length === MAX_TOKENS) return { live, truncated: true };
      const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
      live.push({ jti: str(d.jti), client_id: str(d.client_id) ?? r.clientId, sub: str(d.sub), issued_at: r.at.toISOString(), expires_at: new Date(expires).toISOString() });
    }
    if (rows.length < 1000) return { live, truncated: false };
    after = rows[rows.length - 1]?.seq ?? after;
  }
}

export async function accessAt(db: Database, query: { resource: string; scope: string; at: Date }): Promise<AccessReport> {
  const at = query.at.getTime();
  const { resource, scope } = query;
  // Read the current state first: a change committed between the two reads then appears in
  // the records (and is replayed), never in the state alone.
  const current = await currentState(db);
  const records = await findAuditRecords(db, { actions: GOVERNANCE_ACTIONS }, 'asc');
  const history = buildHistory(records, current.values);
  const anchor = await readAuditAnchor(db);
  const first = await firstAuditRecord(db);

  const caveats: string[] = [];
  const pruned = anchor.seq !== GENESIS.seq;
  let complete = true;
  if (pruned) {
    caveats.push(`the trail was pruned up to record ${anchor.seq}; replay starts at record ${first?.seq ?? anchor.seq + 1} (${first?.at.toISOString() ?? 'no record left'}): changes before it are not visible, so a "since" of null means "before ${first?.at.toISOString() ?? 'then'}"`);
    if (!first || at < first.at.getTime()) {
      complete = false;
      caveats.push(`the requested time is before the oldest retained record: an item changed between then and ${first?.at.toISOString() ?? 'now'} shows the state before its first retained change, which may differ from its state at the requested time`);
    }
  }
  for (const i of history.inconsistencies) {
    complete = false;
    caveats.push(`${i.key.split('\u0000').join(' ')}: its state after record ${i.seq} differs from what the next change found (changed outside govauth)`);
  }

  const resourceKey = itemKey('resource', resource, 'scopes');
  const offered = contains(scope)(history.valueAt(resourceKey, at));
  const revocations = await revocationsAt(db, at);
  const scopeGrants = offered ? await scopeGrantsAt(db, resource, scope, at) : new Map<string, ScopeGrantPath>();
  const principalIds = (kind: 'user' | 'client'): string[] => {
    const ids = new Set<string>();
    for (const key of current.values.keys()) if (key.startsWith(`${kind}\u0000`)) ids.add(key.split('\u0000')[1] ?? '');
    for (const r of records) if (r.subject && (r.action.startsWith(`admin.${kind}.`) || r.action.startsWith('admin.role_grant.') || r.action === 'role_grant.expired')) ids.add(r.subject);
    for (const id of scopeGrants.keys()) ids.add(id);
    return [...ids].filter((id) => (kind === 'user') === id.startsWith('usr_'));
  };
  const exists = (kind: string, id: string): boolean => history.valueAt(itemKey(kind, id, 'disabled'), at) !== ABSENT;
  const disabled = (kind: string, id: string): boolean => history.valueAt(itemKey(kind, id, 'disabled'), at) === true;
  const ceilingAdmits = (id: string): boolean => {
    const ceiling = history.valueAt(itemKey('client', id, 'ceiling'), at);
    return ceiling === null || ceiling === ABSENT || contains(scope)(ceiling);
  };
  const adminOk = (id: string): boolean => resource !== ADMIN_AUDIENCE || history.valueAt(itemKey('client', id, 'admin_access'), at) === true;

  const apps = principalIds('client')
    .filter((id) => exists('client', id) && (current.grantTypes.get(id) ?? []).includes('authorization_code') && !disabled('client', id) && ceilingAdmits(id) && adminOk(id))
    .map((id) => ({ client_id: id, name: current.names.get(id) ?? id }));

  const could: PrincipalAccess[] = [];
  const blocked: PrincipalAccess[] = [];
  if (offered) {
    for (const kind of ['user', 'client'] as const) {
      for (const id of principalIds(kind)) {
        if (!exists(kind, id)) continue;
        const paths = pathsOf(history, kind, id, scope, at);
        const granted = scopeGrants.get(id);
        if (!paths.length && !granted) continue;
        const why: string[] = [];
        if (disabled(kind, id)) why.push(`${kind} disabled`);
        if (kind === 'client' && !ceilingAdmits(id)) why.push(`the client's scope ceiling excludes ${scope}`);
        if (kind === 'client' && !adminOk(id)) why.push('the client has no admin API access');
        if (kind === 'client' && !(current.grantTypes.get(id) ?? []).includes('client_credentials')) why.push('the client has no client_credentials grant');
        if (kind === 'user' && !apps.length) why.push(`no app (authorization_code client) could request ${scope} for ${resource}`);
        const entry = { type: kind, id, name: current.names.get(id) ?? id, paths, scope_grants: granted ? [granted] : [], blocked: why, revocations: revocations.get(id) ?? [] };
        (why.length ? blocked : could).push(entry);
      }
    }
  }
  return {
    resource,
    scope,
    at: query.at.toISOString(),
    scope_on_resource: offered ? { offered: true, ...intervalOf(history, resourceKey, at, contains(scope)) } : { offered: false },
    could_access: could,
    blocked,
    apps,
    tokens: offered ? await liveTokens(db, resource, scope, at) : { live: [], truncated: false },
    history: { complete, anchor: pruned ? { seq: anchor.seq, hash: anchor.hash } : null, first_seq: first?.seq ?? null, first_at: first?.at.toISOString() ?? null, caveats },
  };
}
