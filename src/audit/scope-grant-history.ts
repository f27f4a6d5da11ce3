// The time-boxed scope grants (one scope on one resource, governance/scope-grants.ts) in force at
// an instant, replayed from their audit records: admin.scope_grant.create (made or extended by
// an approved access request), admin.scope_grant.remove (ended early). Expiry needs no record:
// a grant is held only before its expires_at. For `govauth audit access` (audit-access.ts).
import { findAuditRecords } from '../db/audit-log-reads.ts';
import type { Database } from '../db/database.ts';

export interface ScopeGrantPath {
  /** The access request that made it (null: none named). */
  readonly request: string | null;
  /** When it was granted (the earliest grant of the unbroken run that covers the instant). */
  readonly since: string;
  /** When it ended or ends: its expiry, or an earlier removal. */
  readonly until: string;
}

interface Held {
  request: string | null;
  since: number;
  until: number;
}

/** Principal id → the scope grant of `scope` on `resource` it held at `at`. */
export async function scopeGrantsAt(db: Database, resource: string, scope: string, at: number): Promise<Map<string, ScopeGrantPath>> {
  const rows = await findAuditRecords(db, { actions: ['admin.scope_grant.create', 'admin.scope_grant.remove'] }, 'asc');
  const state = new Map<string, Held>();
  const atT = new Map<string, Held>();
  let passed = false;
  for (const r of rows) {
    if (!passed && r.at.getTime() > at) {
      for (const [id, h] of state) if (h.until > at) atT.set(id, { ...h });
      passed = true;
    }
    const d = JSON.parse(r.detail) as { resource?: unknown; scope?: unknown; expires_at?: unknown; access_request?: unknown };
    if (d.resource !== resource || d.scope !== scope || !r.subject) continue;
    const t = r.at.getTime();
    if (passed) {
      // After the instant: only an early removal changes when the grant held then ended.
      const h = atT.get(r.subject);
      if (h && r.action === 'admin.scope_grant.remove' && t < h.until) h.until = t;
      continue;
    }
    if (r.action === 'admin.scope_grant.remove') {
      state.delete(r.subject);
      continue;
    }
    const until = typeof d.expires_at === 'string' ? Date.parse(d.expires_at) : t;
    const previous = state.get(r.subject);
    state.set(r.subject, { request: typeof d.access_request === 'string' ? d.access_request : null, since: previous && previous.until > t ? previous.since : t, until });
  }
  if (!passed) for (const [id, h] of state) if (h.until > at) atT.set(id, h);
  return new Map([...atT].map(([id, h]) => [id, { request: h.request, since: new Date(h.since).toISOString(), until: new Date(h.until).toISOString() }]));
}
