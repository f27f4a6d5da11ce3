// Security events and token issuance as audit records: the sink the sign-in pages, introspection
// and revocation report to, and the scope-usage rows each audit batch keeps current for the
// access review. Records carry identifiers only (a jti, never a token). The provider
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
  'consent.granted': 'user',
  'consent.denied': 'user',
  logout: 'user',
  'token.introspected': 'client',
  'token.revoked': 'client',
};

const FAILURES = new Set(['login.failed', 'login.throttled', 'mfa.failed', 'consent.denied']);

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

/** Keeps ScopeUsage current: one upsert in each audit batch's transaction (audit-chain.ts). */
export const scopeUsageAlongside: Alongside = (records, inputs, time) => {
  const latest = new Map<string, { type: string; id: string; scope: string; at: Date }>();
  inputs.forEach((input, i) => {
    if (input.action !== 'token.issued' && input.action !== 'token.refreshed') return;
    const d = input.detail ?? {};
    const principal = principalOf(d.sub, d.client_id);
    const at = records[i]?.at;
    if (!principal || !at || !Array.isArray(d.scopes)) return;
    for (const scope of d.scopes as string[]) latest.set(`${principal.type}\0${principal.id}\0${scope}`, { ...principal, scope, at });
  });
  if (!latest.size) return undefined;
  const rows = [...latest.values()];
  return {
    sql: `INSERT INTO "ScopeUsage" ("principalType", "principalId", "scope", "lastUsedAt") VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}
     ON CONFLICT ("principalType", "principalId", "scope") DO UPDATE SET "lastUsedAt" = excluded."lastUsedAt"`,
    params: rows.flatMap((u) => [u.type, u.id, u.scope, time(u.at)]),
  };
};
