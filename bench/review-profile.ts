// Where the access review's time goes at the console bench's size (bench/console-bench.ts: public
// apps created through the registry, `init --demo`, two admin bots): times each input the review
// gathers, the whole reviewAccess as a server runs it (its policy in memory) and as the CLI does
// (loaded from the database), and GET /admin/v1/review?findings_only=true over HTTP (what the
// console's review page calls), median of REVIEW_PROFILE_RUNS runs each, in one process.
// The review reads ScopeUsage and the principals, not the audit trail, so no audit records are
// seeded. Seeding 10,000 clients takes a minute or more: REVIEW_PROFILE_SEED=<file> keeps the
// seeded SQLite file there on the first run (and stops) and starts from a copy of it on later runs.
// Usage: node bench/review-profile.ts   (REVIEW_PROFILE_CLIENTS=10000 REVIEW_PROFILE_RUNS=7 REVIEW_PROFILE_SOD=0)
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '../src/governance/client-registry.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { loadScopeUsage } from '../src/db/access-review-repository.ts';
import { unusedRecoveryCodesByUser } from '../src/db/factor-repository.ts';
import { reviewAccess } from '../src/governance/access-review.ts';
import { loadRoleConstraints } from '../src/governance/exclusive-roles.ts';
import { loadPolicySnapshot, loadUsers } from '../src/governance/policy-loader.ts';
import { createAdminBots, tokenFor } from '../test/helpers/admin-http.ts';
import { createTestDatabase } from '../test/helpers/test-database.ts';
import { startTestServer } from '../test/helpers/test-server.ts';
import { median } from './lib/rounds.ts';

const CLIENTS = Number(process.env.REVIEW_PROFILE_CLIENTS ?? 10_000);
const RUNS = Number(process.env.REVIEW_PROFILE_RUNS ?? 7);
const SEED = process.env.REVIEW_PROFILE_SEED;

/** Copies a SQLite database with its write-ahead log (a stopped server may leave one). */
function copyDatabase(from: string, to: string): void {
  copyFileSync(from, to);
  if (existsSync(`${from}-wal`)) copyFileSync(`${from}-wal`, `${to}-wal`);
  else rmSync(`${to}-wal`, { force: true });
}

const fresh = await createTestDatabase();
if (fresh.kind !== 'sqlite') throw new Error('review-profile runs on SQLite (unset DATABASE_URL)');
const file = join(fresh.dataDir, 'govauth.db');
const seeded = SEED !== undefined && existsSync(SEED);
if (seeded) {
  copyDatabase(SEED, file);
} else {
  const target = { kind: fresh.kind, url: fresh.url };
  await migrate(target);
  const db = await openDatabase(target, { now: Date.now });
  const started = performance.now();
  const by = { actorType: 'system' as const, actor: 'bench' };
  for (let i = 0; i < CLIENTS; i++) {
    await createClient(db, { name: `bench app ${i}`, grants: ['authorization_code'], redirectUris: [`https://app${i}.example/cb`], isPublic: true }, by, Date.now());
  }
  console.log(`# seeded ${CLIENTS.toLocaleString('en')} clients in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await db.close();
}

// A fixed master key, so a kept database's signing keys open on later runs (a bench, not a deployment).
const t = await startTestServer({ db: fresh, masterKey: Buffer.alloc(32, 7).toString('base64') });
try {
  if (!seeded) {
    await t.cliJson('init', '--demo');
    await createAdminBots(t);
    if (SEED !== undefined) {
      await t.stop();
      copyDatabase(file, SEED);
      console.log(`# kept the seeded database in ${SEED}`);
      process.exit(0);
    }
  }
  // REVIEW_PROFILE_SOD=1: with a set of exclusive roles declared, so the separation-of-duties check has work.
  if (process.env.REVIEW_PROFILE_SOD === '1') await t.cliJson('role', 'exclusive', 'add', 'admin', 'auditor');
  const bot = await t.cliJson<{ client_id: string; client_secret: string }>('client', 'create', '--name', 'profile-bot', '--grant', 'client_credentials', '--roles', 'govauth-auditor', '--admin-access');
  await t.server.policy.sync();
  const token = await tokenFor(t.url, bot);
  const db = t.server.db;
  const now = Date.now();
  const { policy } = t.server;
  // The database loads (what the CLI pays) come last in each round, after the server's figures,
  // which the garbage they leave would otherwise slow most.
  const phases: Record<string, () => Promise<unknown>> = {
    'policy.sync() (nothing new)': () => policy.sync(),
    'loadScopeUsage(db)': () => loadScopeUsage(db),
    'unusedRecoveryCodesByUser(db)': () => unusedRecoveryCodesByUser(db),
    'loadRoleConstraints(db) (separation of duties)': () => loadRoleConstraints(db),
    'reviewAccess, policy in memory (server)': () => reviewAccess(db, { unusedDays: 30, now, policy: { snapshot: policy.snapshot(), users: policy.users() } }),
    // Plain fetch: the test helper's check of the answer against the route's schema is client time.
    'GET /admin/v1/review?findings_only=true': async () => {
      const res = await fetch(`${t.url}/admin/v1/review?findings_only=true`, { headers: { authorization: `Bearer ${token}` } });
      await res.text();
      if (res.status !== 200) throw new Error(`review: ${res.status}`);
    },
    // What any admin API read costs beyond its handler (token check, read record), for comparison.
    'GET /admin/v1/scopes (comparison)': async () => {
      const res = await fetch(`${t.url}/admin/v1/scopes`, { headers: { authorization: `Bearer ${token}` } });
      await res.text();
      if (res.status !== 200) throw new Error(`scopes: ${res.status}`);
    },
    'loadPolicySnapshot(db) (CLI only)': () => loadPolicySnapshot(db),
    'loadUsers(db) (CLI only)': () => loadUsers(db),
    'reviewAccess, policy from the database (CLI)': () => reviewAccess(db, { unusedDays: 30, now }),
  };

  const times = new Map<string, number[]>(Object.keys(phases).map((k) => [k, []]));
  for (let r = 0; r < RUNS + 1; r++) {
    for (const [name, run] of Object.entries(phases)) {
      const s = performance.now();
      await run();
      if (r > 0) times.get(name)?.push(performance.now() - s); // the first round warms up
    }
  }
  console.log(`# access review inputs (SQLite; ${CLIENTS.toLocaleString('en')} clients, ${t.server.policy.snapshot().clients.size.toLocaleString('en')} in the snapshot), ms, median of ${RUNS} runs`);
  console.log('| phase | median | worst |\n| --- | ---: | ---: |');
  for (const [name, xs] of times) console.log(`| ${name} | ${median(xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`);
} finally {
  await t.stop();
  await fresh.drop();
}
