// Upgrading to the console's token rollup: the migration fills TokenRollup from the last 24 hours
// of the audit trail (from the start of the six-hour bucket it begins in), in SQL, with exactly the rows the request
// path's counting (token-rollup-records.ts) gives for the same records, so an upgraded
// installation's overview is not empty for a day; older records and other actions are left out.
import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { appendAuditBatch, type AuditInput } from '../../src/audit/audit-chain.ts';
import { tokenRollupRows } from '../../src/audit/token-rollup-records.ts';
import { openDatabase } from '../../src/db/database.ts';
import { migrate, migrationsDir } from '../../src/db/migrate.ts';
import type { RollupRow } from '../../src/db/token-rollup.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

const ROLLUP_MIGRATION = /_console_token_rollup$/;
const HOUR = 3_600_000;
let tdb: TestDatabase | undefined;
afterAll(() => tdb?.drop());

const sorted = (rows: readonly RollupRow[]): RollupRow[] => [...rows].sort((x, y) => JSON.stringify([x.dimension, x.minute, x.key]).localeCompare(JSON.stringify([y.dimension, y.minute, y.key])));

it('backfills the last 24 hours of token records as the request path counts them', async () => {
  tdb = await createTestDatabase();
  const target = { kind: tdb.kind, url: tdb.url };
  const source = migrationsDir(tdb.kind);
  const all = readdirSync(source, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const at = all.findIndex((n) => ROLLUP_MIGRATION.test(n));
  expect(at).toBeGreaterThan(0);
  const before = mkdtempSync(join(tmpdir(), 'govauth-mig-'));
  for (const name of all.slice(0, at)) cpSync(join(source, name), join(before, name), { recursive: true });
  await migrate(target, `${before}/`);

  const db = await openDatabase(target, { now: Date.now });
  try {
    const now = Date.now();
    const token = (action: string, ago: number, clientId: string | undefined, detail: Record<string, unknown>): AuditInput => ({ action, actorType: 'client', actor: clientId, clientId, outcome: action === 'token.refused' ? 'failure' : 'success', detail, at: new Date(now - ago) });
    const inputs: AuditInput[] = [
      token('token.issued', 31 * HOUR, 'cl_old', { grant_type: 'client_credentials', scopes: ['ai.read'] }), // before the window
      token('token.issued', 23.5 * HOUR, 'cl_a', { grant_type: 'client_credentials', scopes: ['ai.read', 'ai.write'] }),
      token('token.refused', 23.4 * HOUR, 'cl_a', { grant_type: 'client_credentials', error: 'invalid_scope' }),
      token('token.refreshed', 5 * HOUR, 'cl_b', { grant_type: 'refresh_token', scopes: ['ai.read', 'ai.read'] }),
      token('token.exchanged', 5 * HOUR, 'cl_b', { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', scopes: [] }),
      token('token.refused', 2 * HOUR, undefined, { grant_type: 'client_credentials', error: 'invalid_client' }),
      token('token.issued', 60_000, "cl_o'brien", { scopes: ['ai.read'] }), // no grant type recorded
      token('token.issued', 59_000, "cl_o'brien", { grant_type: 'authorization_code', scopes: ['openid', 'ai.read'] }),
      token('refresh.reuse_detected', 50_000, 'cl_b', { grant_type: 'refresh_token' }),
      token('login.succeeded', 40_000, undefined, { scopes: ['ai.read'] }),
    ];
    const records = await appendAuditBatch(db, inputs, new Date(now));

    expect(await migrate(target)).toEqual(all.slice(at)); // this migration and any after it
    const windowStart = Math.floor((now - 24 * HOUR) / (6 * HOUR)) * 6 * HOUR; // the six-hour bucket holding the instant a day ago
    const inWindow = records.map((r, i) => ({ r, detail: inputs[i]?.detail })).filter(({ r }) => r.at.getTime() >= windowStart);
    const expected = sorted(tokenRollupRows(inWindow.map((x) => x.r), inWindow.map((x) => x.detail)));
    const rows = sorted((await db.prisma.tokenRollup.findMany()).map((r) => ({ dimension: r.dimension as RollupRow['dimension'], minute: r.minute, key: r.key, issued: r.issued, refused: r.refused })));
    expect(rows).toEqual(expected);
    // What that means, spelled out: the old record is left out, refusals count, scopes count per token.
    expect(rows.some((r) => r.key === 'cl_old')).toBe(false);
    const sum = (dimension: string, key: string, field: 'issued' | 'refused') => rows.filter((r) => r.dimension === dimension && r.key === key).reduce((n, r) => n + r[field], 0);
    expect([sum('grant', 'client_credentials', 'issued'), sum('grant', 'client_credentials', 'refused'), sum('grant', '', 'issued')]).toEqual([1, 2, 1]);
    expect([sum('client', 'cl_b', 'issued'), sum('client', '', 'refused'), sum('scope', 'ai.read', 'issued')]).toEqual([2, 1, 5]);
    // The (action, at) index is gone; the action index stays, ordered by seq since audit_action_seq.
    const indexes = tdb.kind === 'sqlite'
      ? await db.prisma.$queryRawUnsafe<{ name: string }[]>(`SELECT "name" FROM sqlite_master WHERE "type" = 'index' AND "tbl_name" = 'AuditEvent'`)
      : await db.prisma.$queryRawUnsafe<{ name: string }[]>(`SELECT indexname::text AS "name" FROM pg_indexes WHERE tablename = 'AuditEvent'`);
    const names = indexes.map((i) => i.name);
    expect(names).toContain('AuditEvent_action_seq_idx');
    expect(names).not.toContain('AuditEvent_action_at_idx');
  } finally {
    await db.close();
  }
});
