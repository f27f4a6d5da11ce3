// How fast audit filters answer on a large trail: fills a fresh database (SQLite temp file, or a
// new PostgreSQL database when DATABASE_URL is set) with AUDIT_BENCH_RECORDS (1,000,000) chained
// records through the chain's own batch append (multi-row INSERTs, one transaction per batch;
// no HTTP, no argon2), then times each filter of GET /admin/v1/audit (tailAuditEvents, the
// function the route and `govauth audit tail` call) as the median of several runs, and prints
// the query plans of the SQL behind them.
// Usage: npm run bench:audit-query   (knobs: AUDIT_BENCH_RECORDS, AUDIT_BENCH_RUNS)
import { createTestDatabase } from '../test/helpers/test-database.ts';
import { appendAuditBatch, type AuditInput } from '../src/audit/audit-chain.ts';
import { tailAuditEvents, type AuditFilter } from '../src/audit/audit-query.ts';
import { openDatabase, type Database, type DatabaseTarget } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { median } from './lib/rounds.ts';

const RECORDS = Number(process.env.AUDIT_BENCH_RECORDS ?? 1_000_000);
const RUNS = Number(process.env.AUDIT_BENCH_RUNS ?? 7);
const BATCH = 2000; // 13 columns × 2000 rows stays under both databases' parameter limits

// A trail shaped like production: mostly token traffic, some sign-ins, a few admin changes.
const MIX: readonly (readonly [string, number])[] = [
  ['token.issued', 55], ['token.introspected', 25], ['token.refreshed', 6], ['token.refused', 3], ['token.revoked', 1],
  ['login.succeeded', 3], ['login.failed', 2], ['consent.granted', 1.5], ['client_auth.failed', 1.5],
  ['admin.client.create', 0.2], ['admin.client.update', 0.2], ['admin.user.create', 0.2], ['admin.role.update', 0.1],
  ['admin_api.denied', 0.05], ['revocation.grant', 0.3],
];
const TOTAL = MIX.reduce((s, [, w]) => s + w, 0);
const pick = (i: number): string => {
  let x = ((i * 2654435761) % 1_000_003) / 1_000_003 * TOTAL; // deterministic spread
  for (const [action, w] of MIX) if ((x -= w) < 0) return action;
  return 'token.issued';
};

function batchOf(start: number, n: number, t0: number): AuditInput[] {
  return Array.from({ length: n }, (_, k) => {
    const i = start + k;
    return {
      action: pick(i),
      actorType: 'client',
      actor: `cl_${i % 500}`,
      subject: i % 7 === 0 ? `usr_${i % 20_000}` : `cl_${i % 500}`,
      clientId: `cl_${i % 500}`,
      ip: '10.0.0.1',
      detail: { jti: i.toString(36), scopes: ['ai.prediction.run'] },
      at: new Date(t0 + i * 1000), // one record a second: 1M records span ~11.6 days
    };
  });
}

async function fill(db: Database): Promise<number> {
  const started = performance.now();
  const t0 = Date.now() - RECORDS * 1000;
  for (let i = 0; i < RECORDS; i += BATCH) await appendAuditBatch(db, batchOf(i, Math.min(BATCH, RECORDS - i), t0), new Date());
  return (performance.now() - started) / 1000;
}

const CASES: readonly (readonly [string, AuditFilter, number])[] = [
  ['no filter', {}, 100],
  ['action=token.issued (55 %)', { action: 'token.issued' }, 100],
  ['action=admin.user.create (0.2 %)', { action: 'admin.user.create' }, 100],
  ['action=token.* (family, 90 %)', { action: 'token.*' }, 100],
  ['action=admin.* (family, 0.7 %)', { action: 'admin.*' }, 100],
  ['action=%* limit=1 (matches nothing)', { action: '%*' }, 1],
  ['action=_* limit=1 (matches nothing)', { action: '_*' }, 1],
  ['action=% (exact, matches nothing)', { action: '%' }, 100],
  ['actor=cl_42', { actor: 'cl_42' }, 100],
  ['subject=usr_77', { subject: 'usr_77' }, 100],
  ['since=1h ago', { since: new Date(Date.now() - 3600_000) }, 100],
  ['actor=cl_42 action=admin.*', { actor: 'cl_42', action: 'admin.*' }, 100],
  ['limit=1000, no filter', {}, 1000],
  // The console's "Newer": the records closest above a position, read upwards.
  ['after=<middle>, no filter', { after: Math.floor(RECORDS / 2) }, 101],
  ['actor=cl_42 after=<middle>', { actor: 'cl_42', after: Math.floor(RECORDS / 2) }, 101],
  ['action=admin.* after=<middle>', { action: 'admin.*', after: Math.floor(RECORDS / 2) }, 101],
];

async function time(db: Database, filter: AuditFilter, limit: number): Promise<{ ms: number; rows: number }> {
  const runs: number[] = [];
  let rows = 0;
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    rows = (await tailAuditEvents(db, filter, limit)).length;
    runs.push(performance.now() - t);
  }
  return { ms: median(runs), rows };
}

// The SQL the cases above send (Prisma's, written out), to show which index serves each.
const PLANS: readonly (readonly [string, string])[] = [
  ['action =', `SELECT "seq" FROM "AuditEvent" WHERE "action" = 'admin.user.create' ORDER BY "seq" DESC LIMIT 100`],
  ['action IN (family)', `SELECT "seq" FROM "AuditEvent" WHERE "action" IN ('admin.client.create','admin.client.update','admin.role.update','admin.user.create') ORDER BY "seq" DESC LIMIT 100`],
  ['actor =', `SELECT "seq" FROM "AuditEvent" WHERE "actor" = 'cl_42' ORDER BY "seq" DESC LIMIT 100`],
  ['subject =', `SELECT "seq" FROM "AuditEvent" WHERE "subject" = 'usr_77' ORDER BY "seq" DESC LIMIT 100`],
  ['actor = after', `SELECT "seq" FROM "AuditEvent" WHERE "actor" = 'cl_42' AND "seq" > ${Math.floor(RECORDS / 2)} ORDER BY "seq" ASC LIMIT 101`],
  ['action = after', `SELECT "seq" FROM "AuditEvent" WHERE "action" = 'admin.user.create' AND "seq" > ${Math.floor(RECORDS / 2)} ORDER BY "seq" ASC LIMIT 101`],
  ['distinct actions (one probe)', `SELECT MIN("action") FROM "AuditEvent" WHERE "action" > 'token.issued'`],
];

async function plan(db: Database, sql: string): Promise<string> {
  const rows = await db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(db.kind === 'sqlite' ? `EXPLAIN QUERY PLAN ${sql}` : `EXPLAIN ${sql}`);
  return rows.map((r) => String(db.kind === 'sqlite' ? r.detail : r['QUERY PLAN'])).join(' | ');
}

const fresh = await createTestDatabase(); // a temporary SQLite file, or a new database on DATABASE_URL's server
const target: DatabaseTarget = { kind: fresh.kind, url: fresh.url };
const drop = (): Promise<void> => fresh.drop();
try {
  await migrate(target);
  const db = await openDatabase(target, { now: Date.now });
  console.log(`# audit query bench: ${target.kind}, ${RECORDS.toLocaleString('en')} records, median of ${RUNS} runs`);
  const fillSec = await fill(db);
  console.log(`fill: ${fillSec.toFixed(1)} s (${Math.round(RECORDS / fillSec).toLocaleString('en')} records/s)`);
  if (db.kind === 'postgresql') await db.prisma.$executeRawUnsafe('ANALYZE "AuditEvent"');
  else await db.prisma.$executeRawUnsafe('ANALYZE');
  console.log('\n| filter | rows | median ms |\n| --- | ---: | ---: |');
  for (const [name, filter, limit] of CASES) {
    const { ms, rows } = await time(db, filter, limit);
    console.log(`| ${name} | ${rows} | ${ms.toFixed(1)} |`);
  }
  console.log('\nquery plans:');
  for (const [name, sql] of PLANS) console.log(`- ${name}: ${await plan(db, sql)}`);
  await db.close();
} finally {
  await drop();
}
