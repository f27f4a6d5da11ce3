// Is a change slower? client_credentials issuance of two commits of govauth, in alternating pairs
// of runs on this machine, as `npm run bench:token` loads it (same request, same bot client, 1
// worker, the shipped V8 settings, autocannon -c 32 from this process).
//
//   npx node bench/compare-commits.ts <base> [<head> | WORKTREE]      (default head: WORKTREE)
//   BENCH_PAIRS=6 BENCH_DURATION=5 npx node bench/compare-commits.ts HEAD~1
//
// <base> and <head> are commit-ishes, checked out into temporary detached git worktrees
// (bench/lib/commit-checkouts.ts); WORKTREE is this checkout as it is on disk, uncommitted
// changes included. Every run is a fresh server process on a fresh database, built by that
// commit's own fixture and CLI (bench/lib/commit-server.ts), then a 2 s warm-up and one measured
// run. Pair i runs base then head, pair i+1 head then base, so drift on these shared cores
// (±30 % within minutes) falls on both sides alike; what is reported is the median over pairs of
// head req/s ÷ base req/s, each ratio taken from two adjacent runs. Issue 16's bar: ≥ 0.98 over
// 6+ pairs. SQLite by default; DATABASE_URL=postgresql://… compares on PostgreSQL.
// Exit status 1 when the median ratio is below 0.98 or any request failed. The worktrees are
// removed at the end, on failure and on Ctrl-C.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { currentCheckout, describeCommit, git, temporaryCheckout, warmCompileCache, type Checkout } from './lib/commit-checkouts.ts';
import { govauthTokenRequest } from './lib/issuance.ts';
import { load, type LoadResult } from './lib/load.ts';
import { startChild, type Child } from './lib/processes.ts';
import { median } from './lib/rounds.ts';
import { systemClock } from '../src/time/clock.ts';

const pairs = Number(process.env.BENCH_PAIRS ?? 6);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const WARM_UP_SEC = 2; // as bench/lib/rounds.ts warms each candidate
const NOT_SLOWER = 0.98; // issue 16: "median ratio ≥ 0.98 over 6+ pairs"

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const [baseRef, headRef = 'WORKTREE'] = process.argv.slice(2);
if (!baseRef || baseRef === 'WORKTREE' || !(pairs >= 1) || !(duration > 0)) {
  console.error('usage: [BENCH_PAIRS=6] [BENCH_DURATION=5] npx node bench/compare-commits.ts <base commit> [<head commit> | WORKTREE]');
  process.exit(2);
}
const root = git(here('.'), 'rev-parse', '--show-toplevel');
const kind = /^postgres(ql)?:/.test(process.env.DATABASE_URL ?? '') ? 'postgresql' : 'sqlite';

const checkouts: Checkout[] = [];
let running: Child | undefined;
let cleaned = false;
async function cleanUp(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await running?.stop();
  for (const c of checkouts) c.remove();
}
process.on('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
process.on('SIGTERM', () => void cleanUp().finally(() => process.exit(143)));

/** One run: a fresh server of `side` on a fresh database, warmed up, then measured. */
async function measure(side: Checkout): Promise<LoadResult> {
  const server = await startChild(here('./lib/commit-server.ts'), {}, /commit-server ready (\{.*\})/, [side.root], { cwd: side.root, readyTimeoutMs: 180_000 });
  running = server;
  try {
    const ready = JSON.parse(server.url) as { url: string; client_id: string; client_secret: string };
    const request = govauthTokenRequest(ready.url, ready, connections);
    const probe = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body });
    if (probe.status !== 200) throw new Error(`${side.label}: probe failed ${probe.status} ${await probe.text()}`);
    await load(`${side.label} (warm-up)`, { ...request, durationSec: WARM_UP_SEC });
    return await load(side.label, { ...request, durationSec: duration });
  } finally {
    running = undefined;
    await server.stop();
  }
}

const run = (r: LoadResult): string => `${String(r.rps).padStart(6)} req/s p99 ${String(r.p99).padStart(3)} ms`;

try {
  const base = temporaryCheckout(root, baseRef);
  checkouts.push(base);
  const head = headRef === 'WORKTREE' ? currentCheckout(root) : temporaryCheckout(root, headRef);
  checkouts.push(head);
  const dirty = headRef === 'WORKTREE' && git(root, 'status', '--porcelain', '--untracked-files=no') !== '' ? ' + uncommitted changes' : '';
  console.log(`base ${describeCommit(root, base.commit)}`);
  console.log(`head ${headRef === 'WORKTREE' ? 'WORKTREE: ' : ''}${describeCommit(root, head.commit)}${dirty}`);
  console.log(`client_credentials issuance, govauth 1 worker, ${kind}; autocannon -c ${connections}; ${pairs} pairs of ${duration} s runs (each after a ${WARM_UP_SEC} s warm-up, fresh server and database); ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown cpu'}), node ${process.version}; ${new Date(systemClock()).toISOString()}\n`);
  for (const c of [base, head]) warmCompileCache(c);

  const results: { pair: number; baseFirst: boolean; base: LoadResult; head: LoadResult; ratio: number }[] = [];
  for (let pair = 1; pair <= pairs; pair++) {
    const baseFirst = pair % 2 === 1;
    const first = await measure(baseFirst ? base : head);
    const second = await measure(baseFirst ? head : base);
    const [b, h] = baseFirst ? [first, second] : [second, first];
    const ratio = h.rps / b.rps;
    results.push({ pair, baseFirst, base: b, head: h, ratio });
    console.log(`pair ${pair}/${pairs} (${baseFirst ? 'base' : 'head'} first): base ${run(b)} | head ${run(h)} | head/base ${ratio.toFixed(3)}×`);
  }

  const ratios = results.map((r) => r.ratio);
  const verdict = median(ratios);
  const failures = results.reduce((n, r) => n + r.base.non2xx + r.base.errors + r.head.non2xx + r.head.errors, 0);
  console.log(`\nmedian base ${Math.round(median(results.map((r) => r.base.rps)))} req/s, head ${Math.round(median(results.map((r) => r.head.rps)))} req/s`);
  console.log(`head/base: median ${verdict.toFixed(3)}× over ${pairs} pairs (min ${Math.min(...ratios).toFixed(3)}×, max ${Math.max(...ratios).toFixed(3)}×): ${verdict >= NOT_SLOWER ? 'not slower' : 'SLOWER'} (bar ${NOT_SLOWER}×)`);
  console.log(failures ? `NON-2XX OR ERRORS: ${failures}` : 'no non-2xx responses and no errors in any run');
  mkdirSync(here('./results/'), { recursive: true });
  const file = here(`./results/${new Date(systemClock()).toISOString().replace(/[:.]/g, '-')}-compare-${base.commit.slice(0, 7)}-${headRef === 'WORKTREE' ? 'worktree' : head.commit.slice(0, 7)}-${kind}.json`);
  writeFileSync(file, JSON.stringify({ base: base.commit, head: head.commit, headRef, kind, pairs, duration, connections, results, medianRatio: verdict }, null, 2));
  console.log(`results: ${file}`);
  process.exitCode = verdict >= NOT_SLOWER && !failures ? 0 : 1;
} finally {
  await cleanUp();
}
