// Security events and token issuance as audit records: the sink the sign-in pages, introspection
// and revocation report to, and the scope-usage rows each audit batch keeps current for the
// access review (from issued tokens and from the requests resource servers report). Records carry identifiers only (a jti, never a token). The provider
// middleware that records token responses and sign-outs is src/oidc/token-audit.ts.
import type { SecurityEvent, SecurityEventSink } from '../governance/security-events.ts';
import type { Logger } from '../log/logger.ts';
import type { ActorType, Alongside, AuditInput } from './audit-chain.ts';
import type { AuditWriter } from './audit-writer.ts';

const ACTOR_OF: Record<string, ActorType> = {
  'login.succeeded': 'user',
  'login.failed': 'user',
  'login.throttled': 'user',
  'mfa.succeeded': 'user',
  'mfa.failed': 'user',
  'passkey.refused': 'user',
  'consent.granted': 'user',
  'consent.denied': 'user',
  logout: 'user',
  'token.introspected': 'client',
  'token.revoked': 'client',
  'client.old_secret_used': 'client',
};

const FAILURES = new Set(['login.failed', 'login.throttled', 'mfa.failed', 'passkey.refused', 'consent.denied']);

/** Security events → audit records. Introspection is recorded without waiting (read-only). */
export function auditSecurityEvents(writer: AuditWriter, log: Logger): SecurityEventSink {
  return {
    async record(event: SecurityEvent) {
      const input: AuditInput = {
        action: event.type,
        actorType: ACTOR_OF[event.type] ?? 'system',
        actor: event.actor,
        subject: event.actor,
        clientId: event.clientId,
        resource: event.resource,
        ip: event.ip,
        requestId: event.requestId,
        outcome: FAILURES.has(event.type) ? 'failure' : event.type === 'token.introspected' && event.detail?.active === false ? 'denied' : 'success',
        detail: event.detail,
      };
      if (event.type === 'token.introspected') {
        writer.record(input).catch((err: unknown) => log.error('audit record for an introspection was lost', { err: (err as Error).message, requestId: event.requestId }));
        return;
      }
      await writer.record(input);
    },
  };
}

/** Which principal a token was issued to, for the access review's scope usage. */
function principalOf(sub: unknown, clientId: unknown): { type: 'user' | 'client'; id: string } | undefined {
  if (typeof sub === 'string' && sub.startsWith('usr_')) return { type: 'user', id: sub };
  if (typeof clientId === 'string') return { type: 'client', id: clientId };
  return undefined;
}

/**
 * The scopes a record shows in use, by whom and when: an issued or refreshed token's scopes at
 * issuance, and the scopes of a request a resource server reports it accepted with a token
 * govauth knows (resource.request, src/introspection/resource-usage.ts) at the time it says,
 * never later than the record itself.
 */
function scopesUsed(input: AuditInput, record: { at: Date } | undefined): { principal: { type: 'user' | 'client'; id: string }; scopes: string[]; at: Date } | undefined {
  const d = input.detail ?? {};
  if (!record) return undefined;
  if (input.action === 'token.issued' || input.action === 'token.refreshed') {
    const principal = principalOf(d.sub, d.client_id);
    return principal && Array.isArray(d.scopes) ? { principal, scopes: d.scopes as string[], at: record.at } : undefined;
  }
  if (input.action === 'resource.request' && input.outcome === 'success' && input.subject && Array.isArray(d.scope)) {
    const principal = principalOf(input.subject, input.subject);
    const occurred = typeof d.occurred_at === 'string' ? Date.parse(d.occurred_at) : Number.NaN;
    const at = Number.isFinite(occurred) && occurred < record.at.getTime() ? new Date(occurred) : record.at;
    return principal && { principal, scopes: d.scope as string[], at };
  }
  return undefined;
}

/** The client a person's token was issued through (token records name it). */
function appOf(input: AuditInput): string | undefined {
  const clientId = (input.detail ?? {}).client_id;
  return input.action === 'token.issued' || input.action === 'token.refreshed' ? (typeof clientId === 'string' ? clientId : undefined) : undefined;
}

/**
 * Keeps ScopeUsage current: one upsert in each audit batch's transaction (audit-chain.ts). A
 * row only moves forward in time: a usage report may arrive after a later use was recorded.
 */
export const scopeUsageAlongside: Alongside = (records, inputs, time) => {
  const latest = new Map<string, { type: string; id: string; scope: string; at: Date }>();
  const keep = (principal: { type: string; id: string }, scope: string, at: Date): void => {
    const key = `${principal.type}\0${principal.id}\0${scope}`;
    const prev = latest.get(key);
    if (!prev || prev.at < at) latest.set(key, { ...principal, scope, at });
  };
  inputs.forEach((input, i) => {
    const used = scopesUsed(input, records[i]);
    if (!used) return;
    for (const scope of used.scopes) keep(used.principal, scope, used.at);
    // Which scopes reached people through an app, and when last (principal type `app`): the
    // review's last use of self-registered clients, which hold no roles of their own.
    const app = appOf(input);
    if (app && used.principal.type === 'user') for (const scope of used.scopes) keep({ type: 'app', id: app }, scope, used.at);
  });
  if (!latest.size) return undefined;
  const rows = [...latest.values()];
  return {
    sql: `INSERT INTO "ScopeUsage" ("principalType", "principalId", "scope", "lastUsedAt") VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}
     ON CONFLICT ("principalType", "principalId", "scope") DO UPDATE SET "lastUsedAt" = CASE WHEN excluded."lastUsedAt" > "ScopeUsage"."lastUsedAt" THEN excluded."lastUsedAt" ELSE "ScopeUsage"."lastUsedAt" END`,
    params: rows.flatMap((u) => [u.type, u.id, u.scope, time(u.at)]),
  };
};
