// One worker against two on this machine, for issuance and for introspection: the evidence for
// GOVAUTH_WORKERS=auto (issue 18). Two govauth servers on the same fresh database, one with
// GOVAUTH_WORKERS=1 and one with 2, under the same closed-loop load, in alternating rounds
// (1w 2w 1w 2w for issuance then introspection, reversed every other round); the ratio 2w/1w is
// taken per round from adjacent runs and its median reported. npm run bench has 1 vs 2 workers
// for issuance only, beside the baseline; bench:scaling has bare oidc-provider's own scaling.
// Usage: npx node bench/workers-bench.ts   (DATABASE_URL=postgresql://… for PostgreSQL)
// Knobs: BENCH_ROUNDS (6), BENCH_DURATION (s per run, 5), BENCH_CONNECTIONS (32), WORKERS (2).
// Exits 1 on any non-2xx or failed request.
import { availableParallelism, cpus } from 'node:os';
import { createFixture } from './lib/govauth-fixture.ts';
import { introspectionRequest } from './lib/introspection.ts';
import { govauthTokenRequest } from './lib/issuance.ts';
import { formatTable, load, type LoadOptions, type LoadResult } from './lib/load.ts';
import { median } from './lib/rounds.ts';
import { systemClock } from '../src/time/clock.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const many = Number(process.env.WORKERS ?? 2);

interface Pair {
  readonly load: string;
  readonly one: LoadOptions;
  readonly many: LoadOptions;
}

async function main(): Promise<number> {
  const kind = process.env.DATABASE_URL?.startsWith('postgres') ? 'postgresql' : 'sqlite';
  console.log(`govauth 1 worker against ${many}, ${kind}; ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}); node ${process.version}`);
  console.log(`autocannon -c ${connections}; ${rounds} alternating rounds of ${duration} s; ${new Date(systemClock()).toISOString()}\n`);
  const fixture = await createFixture();
  const single = await fixture.start({ GOVAUTH_WORKERS: '1' });
  const multi = await fixture.start({ GOVAUTH_WORKERS: String(many) });
  try {
    const pairs: Pair[] = [
      { load: `issuance (${kind})`, one: govauthTokenRequest(single.url, fixture.bot, connections), many: govauthTokenRequest(multi.url, fixture.bot, connections) },
      {
        load: `introspection (${kind})`,
        one: await introspectionRequest(single.url, fixture.bot, fixture.rs, connections),
        many: await introspectionRequest(multi.url, fixture.bot, fixture.rs, connections),
      },
    ];
    const runs = pairs.flatMap((p) => [
      { key: `${p.load}, 1 worker`, options: p.one },
      { key: `${p.load}, ${many} workers`, options: p.many },
    ]);
    for (const r of runs) await load(`${r.key} (warm-up)`, { ...r.options, durationSec: 2 });

    const results = new Map<string, LoadResult[]>(runs.map((r) => [r.key, []]));
    const ratios = new Map<string, number[]>(pairs.map((p) => [p.load, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? runs : [...runs].reverse();
      const thisRound = new Map<string, LoadResult>();
      for (const r of order) {
        const result = await load(r.key, { ...r.options, durationSec: duration });
        thisRound.set(r.key, result);
        results.get(r.key)?.push(result);
      }
      const line = pairs.map((p) => {
        const ratio = (thisRound.get(`${p.load}, ${many} workers`)?.rps ?? 0) / (thisRound.get(`${p.load}, 1 worker`)?.rps ?? 1);
        ratios.get(p.load)?.push(ratio);
        return `${p.load} ${thisRound.get(`${p.load}, 1 worker`)?.rps} → ${thisRound.get(`${p.load}, ${many} workers`)?.rps} req/s (${ratio.toFixed(2)}×)`;
      });
      console.log(`round ${round + 1}: ${line.join('; ')}`);
    }

    const rows = runs.map((r, i) => {
      const rs = results.get(r.key) ?? [];
      const pair = pairs[Math.floor(i / 2)]!;
      return {
        name: r.key,
        rps: Math.round(median(rs.map((x) => x.rps))),
        p50: median(rs.map((x) => x.p50)),
        p99: median(rs.map((x) => x.p99)),
        requests: rs.reduce((a, x) => a + x.requests, 0),
        non2xx: rs.reduce((a, x) => a + x.non2xx, 0),
        errors: rs.reduce((a, x) => a + x.errors, 0),
        rssMb: (i % 2 === 0 ? single : multi).rssPeakMb(),
        ratio: i % 2 === 0 ? 'reference' : `${median(ratios.get(pair.load) ?? []).toFixed(2)}× 1 worker (median of ${rounds} rounds)`,
      };
    });
    console.log(`\n${formatTable(rows)}`);
    const failures = rows.reduce((n, r) => n + r.non2xx + r.errors, 0);
    console.log(failures ? `\nNON-2XX OR ERRORS: ${failures}` : '\nno non-2xx responses and no errors in any run');
    return failures ? 1 : 0;
  } finally {
    await Promise.all([single.stop(), multi.stop()]);
    await fixture.drop();
  }
}

process.exitCode = await main();
