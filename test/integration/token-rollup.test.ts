// The console overview's token rollup as the request path writes it: many audit batches from two
// database handles at once (two instances) add up to exactly what their records say, in the same
// transaction as the records (on PostgreSQL in the batch's one statement, beside scope usage),
// and pruning deletes old buckets in bounded chunks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditBatch, type AuditInput } from '../../src/audit/audit-chain.ts';
import { verifyAuditChain } from '../../src/audit/audit-verify.ts';
import { REQUEST_PATH_ALONGSIDE } from '../../src/audit/request-path-alongside.ts';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { addToTokenRollup, pruneTokenRollup, tokensBy, tokensPerMinute, type RollupRow } from '../../src/db/token-rollup.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

let tdb: TestDatabase;
let a: Database;
let b: Database;

beforeAll(async () => {
  tdb = await createTestDatabase({ migrated: true });
  await migrate({ kind: tdb.kind, url: tdb.url });
  a = await openDatabase({ kind: tdb.kind, url: tdb.url }, { now: Date.now });
  b = await openDatabase({ kind: tdb.kind, url: tdb.url }, { now: Date.now });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await tdb?.drop();
});

const T0 = Date.UTC(2026, 11, 5, 11, 58, 30); // 11:58:30 UTC: batches straddle minutes, an hour and a six-hour period
const GRANTS = ['client_credentials', 'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange', undefined];
const ACTIONS = ['token.issued', 'token.refreshed', 'token.exchanged', 'token.refused', 'refresh.reuse_detected', 'login.succeeded', 'token.introspected'];

/** A token-shaped record; clients include none and one with a quote, scopes a duplicate. */
function input(n: number): AuditInput {
  const action = ACTIONS[n % ACTIONS.length] ?? 'token.issued';
  const clientId = n % 11 === 0 ? undefined : n % 5 === 0 ? "cl_o'brien" : `cl_${n % 3}`;
  const scopes = n % 4 === 0 ? ['ai.read', 'ai.read', 'ai.write'] : n % 4 === 1 ? [] : ['ai.read'];
  return {
    action, actorType: 'client', actor: clientId, clientId, outcome: action === 'token.refused' ? 'failure' : 'success',
    detail: { grant_type: GRANTS[n % GRANTS.length], scopes, sub: n % 2 ? `usr_${n % 7}` : undefined, client_id: clientId },
    at: new Date(T0 + n * 1_700),
  };
}

/** What the overview counted from the audit trail (its old aggregation's rules), as rollup rows. */
function fromTrail(records: readonly { action: string; at: Date; clientId: string | null; detail: string }[]): RollupRow[] {
  const rows = new Map<string, RollupRow & { issued: number; refused: number }>();
  const bump = (dimension: RollupRow['dimension'], minute: number, key: string, refused: boolean): void => {
    const id = JSON.stringify([dimension, minute, key]);
    const row = rows.get(id) ?? { dimension, minute, key, issued: 0, refused: 0 };
    rows.set(id, { ...row, issued: row.issued + (refused ? 0 : 1), refused: row.refused + (refused ? 1 : 0) });
  };
  for (const r of records) {
    const refused = r.action === 'token.refused';
    if (!refused && !['token.issued', 'token.refreshed', 'token.exchanged'].includes(r.action)) continue;
    const detail = JSON.parse(r.detail) as { grant_type?: string; scopes?: string[] };
    const minute = Math.floor(r.at.getTime() / 60_000);
    bump('grant', minute, detail.grant_type ?? '', refused);
    bump('client', Math.floor(minute / 360) * 360, r.clientId ?? '', refused);
    if (!refused) for (const s of detail.scopes ?? []) bump('scope', Math.floor(minute / 60) * 60, s, false);
  }
  return sorted([...rows.values()]);
}

const sorted = (rows: readonly RollupRow[]): RollupRow[] => [...rows].sort((x, y) => JSON.stringify([x.dimension, x.minute, x.key]).localeCompare(JSON.stringify([y.dimension, y.minute, y.key])));
const rollup = async (db: Database): Promise<RollupRow[]> =>
  sorted((await db.prisma.tokenRollup.findMany()).map((r) => ({ dimension: r.dimension as RollupRow['dimension'], minute: r.minute, key: r.key, issued: r.issued, refused: r.refused })));

describe('token rollup', () => {
  it('sums many batches appended at once by two instances exactly as the records say', async () => {
    const batches = Array.from({ length: 30 }, (_, i) => Array.from({ length: 1 + (i % 9) }, (_, k) => input(i * 10 + k)));
    await Promise.all(batches.map((batch, i) => appendAuditBatch(i % 2 ? a : b, batch, new Date(), REQUEST_PATH_ALONGSIDE)));

    const records = await a.prisma.auditEvent.findMany({ orderBy: { seq: 'asc' } });
    expect(records).toHaveLength(batches.flat().length);
    const rows = await rollup(a);
    expect(rows).toEqual(fromTrail(records));
    // Not vacuous: the batches carried every kind of row, several times over.
    const issued = records.filter((r) => ['token.issued', 'token.refreshed', 'token.exchanged'].includes(r.action)).length;
    const refused = records.filter((r) => r.action === 'token.refused').length;
    expect(issued).toBeGreaterThan(30);
    expect(refused).toBeGreaterThan(10);
    const sum = (dimension: string, field: 'issued' | 'refused') => rows.filter((r) => r.dimension === dimension).reduce((n, r) => n + r[field], 0);
    expect([sum('grant', 'issued'), sum('grant', 'refused'), sum('client', 'issued'), sum('client', 'refused')]).toEqual([issued, refused, issued, refused]);
    expect(rows.some((r) => r.dimension === 'client' && r.key === "cl_o'brien")).toBe(true);
    expect(rows.some((r) => r.dimension === 'client' && r.key === '')).toBe(true);
    const starts = (dimension: string) => [...new Set(rows.filter((r) => r.dimension === dimension).map((r) => new Date(r.minute * 60_000).toISOString().slice(11, 16)))].sort();
    expect(starts('client')).toEqual(['06:00', '12:00']);
    expect(starts('scope')).toEqual(['11:00', '12:00']);
    // The other alongside ran in the same batches (on PostgreSQL: in the same statement).
    expect(await a.prisma.scopeUsage.count()).toBeGreaterThan(0);
    expect(await verifyAuditChain(a)).toMatchObject({ ok: true });

    // What the overview reads back.
    const since = Math.floor(T0 / 60_000) - 5;
    const minutes = await tokensPerMinute(a, since);
    expect(minutes.reduce((n, m) => n + m.issued, 0)).toBe(issued);
    expect(minutes[0]?.minute).toBe('2026-12-05T11:58');
    const byGrant = await tokensBy(a, 'grant', since, 10);
    expect(byGrant.find((g) => g.key === 'client_credentials')).toEqual({
      key: 'client_credentials',
      issued: rows.filter((r) => r.dimension === 'grant' && r.key === 'client_credentials').reduce((n, r) => n + r.issued, 0),
      refused: rows.filter((r) => r.dimension === 'grant' && r.key === 'client_credentials').reduce((n, r) => n + r.refused, 0),
    });
    const top = await tokensBy(a, 'client', since - 360, 2);
    expect(top).toHaveLength(2);
    expect(top[0]!.issued + top[0]!.refused).toBeGreaterThanOrEqual(top[1]!.issued + top[1]!.refused);
  });

  it('prunes buckets before a minute, at most a chunk per statement, and nothing newer', async () => {
    const old = Math.floor(T0 / 60_000) - 3 * 24 * 60;
    const rows: RollupRow[] = Array.from({ length: 6000 }, (_, i) => ({ dimension: 'client', minute: old - (i % 60) * 60, key: `cl_old_${i}`, issued: 1, refused: 0 }));
    const statement = addToTokenRollup(rows);
    await a.sql.execute(statement!.sql, statement!.params);
    const before = await a.prisma.tokenRollup.count();
    const cutoff = Math.floor(T0 / 60_000) - 24 * 60;
    expect(await pruneTokenRollup(a, cutoff, 1)).toBe(5000); // one bounded round
    expect(await pruneTokenRollup(b, cutoff)).toBe(1000);
    expect(await pruneTokenRollup(a, cutoff)).toBe(0);
    expect(await a.prisma.tokenRollup.count()).toBe(before - 6000);
    expect(await a.prisma.tokenRollup.count({ where: { minute: { lt: cutoff } } })).toBe(0);
  });
});
