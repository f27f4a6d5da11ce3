// What each audit batch adds to the console overview's token counts (src/db/token-rollup.ts):
// the token endpoint's records (src/oidc/token-audit.ts) by minute and grant type, by six hours
// and client, and by hour and scope. The counting rules the overview had when it aggregated the
// audit trail itself, unchanged (only the buckets are coarser: BUCKET_MINUTES): token.issued, token.refreshed and token.exchanged count as
// issued, token.refused as refused (refresh.reuse_detected and summarised refusals do not);
// the grant type is the record's detail.grant_type, the client its clientId column (the
// authenticated client, absent for an unknown one), and each scope in an issued token's
// detail.scopes counts once per token.
import { addToTokenRollup, bucketOf, type RollupDimension, type RollupRow } from '../db/token-rollup.ts';
import type { Alongside } from './audit-chain.ts';

const ISSUED = new Set(['token.issued', 'token.refreshed', 'token.exchanged']);
const REFUSED = 'token.refused';

/** A JSON value read as the overview keyed it: text as is, a number as its digits, else ''. */
const keyOf = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');

/** The batch's token records, summed per bucket: one row per (dimension, bucket, key). */
export function tokenRollupRows(records: readonly { action: string; at: Date; clientId: string | null }[], details: readonly (Record<string, unknown> | undefined)[]): RollupRow[] {
  const rows = new Map<string, { dimension: RollupDimension; minute: number; key: string; issued: number; refused: number }>();
  const add = (dimension: RollupDimension, at: number, key: string, refused: boolean): void => {
    const minute = bucketOf(dimension, at);
    const id = `${dimension}\0${minute}\0${key}`;
    const row = rows.get(id) ?? { dimension, minute, key, issued: 0, refused: 0 };
    if (refused) row.refused++;
    else row.issued++;
    rows.set(id, row);
  };
  records.forEach((record, i) => {
    const refused = record.action === REFUSED;
    if (!refused && !ISSUED.has(record.action)) return;
    const detail = details[i] ?? {};
    const minute = Math.floor(record.at.getTime() / 60_000);
    add('grant', minute, keyOf(detail.grant_type), refused);
    add('client', minute, record.clientId ?? '', refused);
    if (!refused && Array.isArray(detail.scopes)) for (const scope of detail.scopes) add('scope', minute, keyOf(scope), false);
  });
  return [...rows.values()];
}

/** Keeps TokenRollup current: one upsert in each request-path audit batch's transaction. */
export const tokenRollupAlongside: Alongside = (records, inputs) =>
  addToTokenRollup(
    tokenRollupRows(
      records,
      inputs.map((input) => input.detail),
    ),
  );
