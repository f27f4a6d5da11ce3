// Reads of personal data through the admin API are themselves audited (who read what, with the
// filter used): a stolen auditor token leaves a trace of what it looked at. One record per
// request, never one per row, so a large listing does not flood the trail. The record is
// durable before the data leaves (as a token response waits for its record): if the trail
// cannot take it, the read fails (503) rather than go unrecorded.
import type { Call } from './route.ts';

// Not admin.*: that family is the changes, each with its before and after (admin_api.denied is its sibling).
const READ_ACTION = 'admin_api.read';

export interface ReadRecord {
  /** The operationId of the route that was called. */
  readonly operation: string;
  /** What was read: a user id for one person, else the collection ("users", "audit", "review"). */
  readonly subject: string;
  /** How many people or records the response held. */
  readonly returned: number;
  /** The query the caller sent, as given (filters, limits). */
  readonly filter?: Readonly<Record<string, unknown>>;
}

export async function recordRead(call: Pick<Call<unknown, unknown, unknown>, 'actor' | 'deps'>, read: ReadRecord): Promise<void> {
  await call.deps.audit.record({
    ...call.actor,
    action: READ_ACTION,
    subject: read.subject,
    detail: { operation: read.operation, returned: read.returned, filter: read.filter ?? {} },
  });
}
