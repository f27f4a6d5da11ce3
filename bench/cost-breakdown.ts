// Where govauth's issuance falls short of bare oidc-provider: the same single-process server
// with each of two later requirements taken out, in the same alternating rounds.
// - the durable audit record each token response waits for (audit trail issue): replaced by a
//   writer that discards records (bench/lib/server-without-audit.ts);
// - the V8 heap limits that keep a worker under 200 MB RSS (src/runtime-flags.ts, performance
//   issue): replaced by V8's defaults, which on this 24 GiB machine let the young generation
//   grow to 16-32 MB per semi-space and the old generation grow ~4× its live size between
//   major collections.
// Neither variant is a way to run govauth: the server has no setting for either. They measure
// what each requirement costs. Usage: npm run bench:breakdown (DATABASE_URL=postgresql://…
// for PostgreSQL). Knobs: BENCH_ROUNDS (default 6), BENCH_DURATION (s per run, default 5).
import { fileURLToPath } from 'node:url';
import { createFixture } from './lib/govauth-fixture.ts';
import { baselineTokenRequest, govauthTokenRequest } from './lib/issuance.ts';
import { startChild, type Child } from './lib/processes.ts';
import { compareWithBaseline, type Candidate } from './lib/rounds.ts';
import { systemClock } from '../src/time/clock.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const V8_DEFAULTS: readonly string[] = [];

const fixture = await createFixture();
const kind = fixture.env.DATABASE_URL?.startsWith('file:') ? 'sqlite' : 'postgresql';
const servers: Child[] = [];
try {
  const baseline = await startChild(fileURLToPath(new URL('./baseline-server.ts', import.meta.url)), {}, /ready (http:\/\/\S+)/);
  servers.push(baseline);
  const variants: [string, Child][] = [
    [`govauth as shipped (${kind}, audit, heap limits)`, await fixture.start({ GOVAUTH_WORKERS: '1' })],
    ['govauth, audit discarded', await fixture.startWithoutAudit()],
    ['govauth, V8 default heap', await fixture.start({ GOVAUTH_WORKERS: '1' }, V8_DEFAULTS)],
    ['govauth, audit discarded, V8 default heap', await fixture.startWithoutAudit(V8_DEFAULTS)],
  ];
  servers.push(...variants.map(([, child]) => child));
  const candidates: Candidate[] = [
    { name: 'bare oidc-provider, 1 process', options: baselineTokenRequest(baseline.url, connections), rssMb: baseline.rssPeakMb },
    ...variants.map(([name, child]) => ({ name, options: govauthTokenRequest(child.url, fixture.bot, connections), rssMb: child.rssPeakMb })),
  ];
  console.log(`client_credentials issuance, 1 process each; autocannon -c ${connections}, ${rounds} alternating rounds of ${duration} s; ${new Date(systemClock()).toISOString()}`);
  await compareWithBaseline(candidates, rounds, duration);
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  await fixture.drop();
}
