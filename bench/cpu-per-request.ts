// CPU per request, per thread kind, for client_credentials issuance: where a token's CPU goes
// (event loop, V8's GC helper threads, libuv's pool where RSA signing runs) and how much the
// load generator itself takes. Sampled profiles over-charge the signing call on a busy 2-core
// machine (bench/README.md), so this reads the kernel's per-thread CPU accounting instead.
// Usage: npm run bench:cpu [-- bare]   (DATABASE_URL=postgresql://… for PostgreSQL;
// then the PostgreSQL server processes' CPU is reported too). Knob: BENCH_DURATION (s, 8).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createFixture } from './lib/govauth-fixture.ts';
import { baselineTokenRequest, govauthTokenRequest } from './lib/issuance.ts';
import { load } from './lib/load.ts';
import { readProcStat, startChild, type Child } from './lib/processes.ts';

/** CPU ms by thread name (digits stripped: "libuv-worker"), over a process's threads. */
function threads(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const t = readProcStat(`/proc/${pid}/task/${tid}/stat`);
    if (!t) continue; // the thread ended meanwhile
    const kind = t.name.replace(/\d+$/, '');
    out.set(kind, (out.get(kind) ?? 0) + t.cpuMs);
  }
  return out;
}

function postgresMs(): number {
  let ms = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const p = readProcStat(`/proc/${pid}/stat`);
    if (p?.name.startsWith('postgres')) ms += p.cpuMs;
  }
  return ms;
}

const bare = process.argv[2] === 'bare';
const durationSec = Number(process.env.BENCH_DURATION ?? 8);
const fixture = bare ? undefined : await createFixture();
const server: Child = fixture
  ? await fixture.start()
  : await startChild(fileURLToPath(new URL('./baseline-server.ts', import.meta.url)), {}, /ready (http:\/\/\S+)/);
try {
  const options = fixture ? govauthTokenRequest(server.url, fixture.bot, 32) : baselineTokenRequest(server.url, 32);
  await load('warm-up', { ...options, durationSec: 2 });
  const pid = server.proc.pid!;
  const [t0, pg0, self0] = [threads(pid), postgresMs(), process.cpuUsage()];
  const r = await load('run', { ...options, durationSec });
  const [t1, pg1, self1] = [threads(pid), postgresMs(), process.cpuUsage(self0)];
  const perRequest = (ms: number): string => `${((ms * 1000) / r.requests).toFixed(0)} µs`;
  console.log(`${bare ? 'bare oidc-provider' : 'govauth, 1 worker'}: ${r.rps} req/s, p99 ${r.p99} ms, ${r.non2xx} non-2xx`);
  let total = 0;
  for (const [name, ms] of t1) {
    const used = ms - (t0.get(name) ?? 0);
    total += used;
    if (used > 0) console.log(`  ${name.padEnd(18)} ${perRequest(used)}`);
  }
  console.log(`  ${'server total'.padEnd(18)} ${perRequest(total)}`);
  if (fixture && !fixture.env.DATABASE_URL?.startsWith('file:')) console.log(`  ${'postgresql'.padEnd(18)} ${perRequest(pg1 - pg0)}`);
  console.log(`  ${'autocannon'.padEnd(18)} ${perRequest((self1.user + self1.system) / 1000)}`);
} finally {
  await server.stop();
  await fixture?.drop();
}
