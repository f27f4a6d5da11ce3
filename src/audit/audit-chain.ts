// What the audit trail records and who records it. The chain itself (hashing, anchors, the one
// append, its lock) is the audit log's storage: src/db/audit-record.ts and src/db/audit-log.ts.
import { appendAuditBatch as appendToLog, type AuditLogTarget, type SqlStatement } from '../db/audit-log.ts';
import type { AuditInput, AuditRecord } from '../db/audit-record.ts';

export type { ActorType, AuditInput, AuditRecord } from '../db/audit-record.ts';

/** Who is making a change: the CLI, an administrator through the admin API, or the system. */
export type Actor = Pick<AuditInput, 'actorType' | 'actor' | 'requestId' | 'ip'>;

/** An administrative change, with the state before and after (never secrets). */
export function adminEvent(by: Actor, action: string, subject: string, before: unknown, after: unknown, extra: Record<string, unknown> = {}): AuditInput {
  return { ...by, action, subject, detail: { before: before ?? null, after: after ?? null, ...extra } };
}

/**
 * Rows derived from a batch (scope usage, the console's token counts), written in the batch's
 * transaction, or nothing. Only the request-path append runs these: administrative appends
 * (appendAuditEvents, auditLogTransaction) never carry the token or usage records they count.
 */
export type Alongside = (records: readonly AuditRecord[], inputs: readonly AuditInput[], time: (date: Date) => unknown) => SqlStatement | undefined;

/** The request-path append (src/db/audit-log.ts), with each alongside's derived rows, in this order. */
export function appendAuditBatch(target: AuditLogTarget, events: readonly AuditInput[], now: Date, alongside: readonly Alongside[] = []): Promise<AuditRecord[]> {
  return appendToLog(target, events, now, (records, time) => alongside.flatMap((derive) => derive(records, events, time) ?? []));
}
