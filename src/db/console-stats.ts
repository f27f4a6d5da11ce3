// The console overview's token counts, aggregated by the database from the audit trail's token
// records (token.issued / token.refreshed / token.exchanged and token.refused, written by
// oidc/token-audit.ts) over a time window. Bounded: one range of the ("action", "at") index per
// query, grouped on the server, at most a row per minute and outcome, or `limit` rows.
// Everything here differs per database only in how a minute and a JSON field are read.
import type { Database } from './database.ts';
import { readTime } from './dialect.ts';

const ISSUED_ACTIONS = ['token.issued', 'token.refreshed', 'token.exchanged'] as const;
const REFUSED_ACTION = 'token.refused';
const ALL = [...ISSUED_ACTIONS, REFUSED_ACTION];
const IN = ALL.map(() => '?').join(', ');
const ISSUED_IN = ISSUED_ACTIONS.map(() => '?').join(', ');

export interface MinuteCount {
  /** The minute, ISO 8601 without seconds (UTC): 2026-12-05T10:20 */
  readonly minute: string;
  readonly issued: number;
  readonly refused: number;
}

export interface KeyedCount {
  readonly key: string;
  readonly issued: number;
  readonly refused: number;
}

const sqlFor = (kind: 'sqlite' | 'postgresql') =>
  kind === 'sqlite'
    ? { minute: `substr("at", 1, 16)`, grantType: `json_extract("detail", '$.grant_type')`, scopes: `json_each("AuditEvent"."detail", '$.scopes') AS "s"`, scope: `"s"."value"` }
    : {
        minute: `to_char(date_trunc('minute', "at"), 'YYYY-MM-DD"T"HH24:MI')`,
        grantType: `(("detail")::jsonb ->> 'grant_type')`,
        scopes: `LATERAL jsonb_array_elements_text((("AuditEvent"."detail")::jsonb) -> 'scopes') AS "s"("value")`,
        scope: `"s"."value"`,
      };

const outcome = `CASE WHEN "action" = '${REFUSED_ACTION}' THEN 'refused' ELSE 'issued' END`;

function fold(rows: { k: unknown; o: unknown; n: unknown }[]): KeyedCount[] {
  const out = new Map<string, { issued: number; refused: number }>();
  for (const r of rows) {
    const key = typeof r.k === 'string' || typeof r.k === 'number' ? String(r.k) : '';
    const c = out.get(key) ?? { issued: 0, refused: 0 };
    if (r.o === 'refused') c.refused += Number(r.n);
    else c.issued += Number(r.n);
    out.set(key, c);
  }
  return [...out].map(([key, c]) => ({ key, ...c })).sort((a, b) => b.issued + b.refused - (a.issued + a.refused));
}

/** Tokens issued and refused per minute since `since` (minutes without any are absent). */
export async function tokensPerMinute(db: Database, since: Date): Promise<MinuteCount[]> {
  const q = sqlFor(db.sql.dialect.kind);
  const rows = await db.sql.query<{ k: unknown; o: unknown; n: unknown }>(
    `SELECT ${q.minute} AS "k", ${outcome} AS "o", COUNT(*) AS "n" FROM "AuditEvent" WHERE "action" IN (${IN}) AND "at" >= ? GROUP BY 1, 2`,
    [...ALL, db.sql.time(since)],
  );
  return fold(rows)
    .map((c) => ({ minute: c.key, issued: c.issued, refused: c.refused }))
    .sort((a, b) => (a.minute < b.minute ? -1 : 1));
}

/** Issued and refused since `since`, by grant type ('by' = grant_type) or by client, the largest `limit`. */
export async function tokensBy(db: Database, by: 'grant_type' | 'client', since: Date, limit: number): Promise<KeyedCount[]> {
  const q = sqlFor(db.sql.dialect.kind);
  const key = by === 'client' ? `"clientId"` : q.grantType;
  const rows = await db.sql.query<{ k: unknown; o: unknown; n: unknown }>(
    `SELECT ${key} AS "k", ${outcome} AS "o", COUNT(*) AS "n" FROM "AuditEvent" WHERE "action" IN (${IN}) AND "at" >= ? GROUP BY 1, 2`,
    [...ALL, db.sql.time(since)],
  );
  return fold(rows).slice(0, limit);
}

/** The scopes most often carried by tokens issued since `since`. */
export async function topScopes(db: Database, since: Date, limit: number): Promise<{ scope: string; tokens: number }[]> {
  if (!Number.isSafeInteger(limit)) throw new TypeError('limit must be an integer');
  const q = sqlFor(db.sql.dialect.kind);
  const rows = await db.sql.query<{ k: unknown; n: unknown }>(
    `SELECT ${q.scope} AS "k", COUNT(*) AS "n" FROM "AuditEvent", ${q.scopes} WHERE "action" IN (${ISSUED_IN}) AND "at" >= ? GROUP BY 1 ORDER BY 2 DESC LIMIT ${limit}`,
    [...ISSUED_ACTIONS, db.sql.time(since)],
  );
  return rows.map((r) => ({ scope: String(r.k), tokens: Number(r.n) }));
}

/** The newest audit record's position and hash: the chain's head. */
export async function auditHead(db: Database): Promise<{ seq: number; at: number; hash: string } | undefined> {
  const [row] = await db.sql.query<{ seq: unknown; at: unknown; hash: string }>('SELECT "seq", "at", "hash" FROM "AuditEvent" ORDER BY "seq" DESC LIMIT 1');
  return row && { seq: Number(row.seq), at: readTime(row.at) ?? 0, hash: row.hash };
}
