// How long console pages take to render on a large installation: seeds a fresh database
// (SQLite temp file, or a new PostgreSQL database when DATABASE_URL is set) with
// CONSOLE_BENCH_CLIENTS clients (10,000) through the registry's own createClient and
// CONSOLE_BENCH_RECORDS audit records (1,000,000, the last 24 h shaped like token traffic, from
// CONSOLE_BENCH_ACTIVE_CLIENTS client ids, 500) through the chain's batch append with the
// request path's derived rows (scope usage and the overview's token rollup, as the server writes
// them: REQUEST_PATH_ALONGSIDE), starts a real server on it, signs an administrator in through
// the sign-in pages (password + TOTP) and times GET of every console page over HTTP: the
// overview's cold render (the first after start) on its own line, then the median and worst of
// CONSOLE_BENCH_RUNS runs of every page, against the 100 ms target.
// Usage: npm run bench:console   (a smoke: CONSOLE_BENCH_CLIENTS=200 CONSOLE_BENCH_RECORDS=5000)
import { appendAuditBatch, type AuditInput } from '../src/audit/audit-chain.ts';
import { REQUEST_PATH_ALONGSIDE } from '../src/audit/request-path-alongside.ts';
import { createClient } from '../src/governance/client-registry.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { consoleSession } from '../test/helpers/console-browser.ts';
import { createTestDatabase } from '../test/helpers/test-database.ts';
import { startTestServer } from '../test/helpers/test-server.ts';
import { median } from './lib/rounds.ts';

const CLIENTS = Number(process.env.CONSOLE_BENCH_CLIENTS ?? 10_000);
const RECORDS = Number(process.env.CONSOLE_BENCH_RECORDS ?? 1_000_000);
const RUNS = Number(process.env.CONSOLE_BENCH_RUNS ?? 7);
const ACTIVE = Number(process.env.CONSOLE_BENCH_ACTIVE_CLIENTS ?? 500);
const BATCH = 2000;
// Token records name one of these resources; the first 1,000 records name RARE_RESOURCE instead.
const RESOURCES = ['https://models.example', 'https://reports.example', 'https://search.example', 'https://billing.example'];
const RARE_RESOURCE = 'https://retired.example';
const PAGES = ['/console', '/console/clients', '/console/clients?offset=5000', '/console/catalog', '/console/people', '/console/grants', '/console/requests', '/console/revocations', '/console/keys', '/console/roles', '/console/access-policies', '/console/self-registered', '/console/notifications', '/console/policies', '/console/audit', '/console/audit?action=token.refused',
  // The explorer's filters, newest first: a client and a resource (one index range each, read
  // backwards), one page further back (before=) and one newer (after=, read upwards), a resource
  // only the oldest records name, and actor and subject, whose indexes are on the value alone.
  '/console/audit?client=cl_7', `/console/audit?resource=${encodeURIComponent(RESOURCES[1] ?? '')}`, `/console/audit?client=cl_7&before=${Math.floor(RECORDS / 2)}`, `/console/audit?client=cl_7&after=${Math.floor(RECORDS / 2)}`,
  `/console/audit?resource=${encodeURIComponent(RARE_RESOURCE)}`, '/console/audit?actor=cl_7', '/console/audit?subject=cl_7', '/console/review'];
const ACTIONS = ['token.issued', 'token.issued', 'token.issued', 'token.refreshed', 'token.refused', 'token.exchanged', 'login.succeeded', 'admin.client.update'];
const GRANTS = ['client_credentials', 'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange'];

const fresh = await createTestDatabase();
const target = { kind: fresh.kind, url: fresh.url };
await migrate(target);
const db = await openDatabase(target, { now: Date.now });
let started = performance.now();
const by = { actorType: 'system' as const, actor: 'bench' };
for (let i = 0; i < CLIENTS; i++) {
  // Public clients: no argon2 hash to pay at seeding; the list costs the same.
  await createClient(db, { name: `bench app ${i}`, grants: ['authorization_code'], redirectUris: [`https://app${i}.example/cb`], isPublic: true }, by, Date.now());
}
console.log(`# seeded ${CLIENTS.toLocaleString('en')} clients in ${((performance.now() - started) / 1000).toFixed(1)} s`);
started = performance.now();
const t0 = Date.now() - 86_400_000 * 2;
const step = (86_400_000 * 2) / RECORDS; // spread over two days: half inside the overview's 24 h
for (let i = 0; i < RECORDS; i += BATCH) {
  const batch: AuditInput[] = Array.from({ length: Math.min(BATCH, RECORDS - i) }, (_, k) => {
    const n = i + k;
    const action = ACTIONS[n % ACTIONS.length] ?? 'token.issued';
    const client = `cl_${n % ACTIVE}`;
    const resource = action.startsWith('token.') ? (n < 1000 ? RARE_RESOURCE : RESOURCES[n % RESOURCES.length]) : undefined;
    return { action, actorType: 'client', actor: client, clientId: client, subject: client, resource, outcome: action === 'token.refused' ? 'failure' : 'success', detail: { grant_type: GRANTS[n % GRANTS.length], scopes: ['ai.prediction.run', n % 3 ? 'ai.training.read' : 'ai.usage.log.read'] }, at: new Date(t0 + n * step) };
  });
  await appendAuditBatch(db, batch, new Date(), REQUEST_PATH_ALONGSIDE);
}
console.log(`# seeded ${RECORDS.toLocaleString('en')} audit records in ${((performance.now() - started) / 1000).toFixed(1)} s`);
await db.close();

const t = await startTestServer({ db: fresh });
try {
  await t.cliJson('init', '--demo');
  const browser = await consoleSession(t, 'bench-admin@example.com', 'govauth-admin');
  console.log(`# console page renders (${target.kind}; ${CLIENTS.toLocaleString('en')} clients, ${RECORDS.toLocaleString('en')} audit records), ms over HTTP, ${RUNS} runs, target ≤ 100`);
  console.log('| page | median | worst |\n| --- | ---: | ---: |');
  // The overview's first render after start waits for the access review's finding counts
  // (overview-stats.ts keeps them afterwards): the cold figure, reported on its own so the
  // median cannot hide it.
  const cold = performance.now();
  const first = await browser.get('/console');
  await first.text();
  if (first.status !== 200) throw new Error(`/console (cold): ${first.status}`);
  const coldMs = performance.now() - cold;
  console.log(`| /console (cold, first after start) | ${coldMs.toFixed(1)} | ${coldMs.toFixed(1)} |`);
  for (const path of PAGES) {
    const times: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const s = performance.now();
      const res = await browser.get(path);
      await res.text();
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      times.push(performance.now() - s);
    }
    console.log(`| ${path} | ${median(times).toFixed(1)} | ${Math.max(...times).toFixed(1)} |`);
  }
} finally {
  await t.stop();
}
