// How far bare oidc-provider itself scales from one process to N cluster workers on this
// machine: the ceiling for any "N workers against the single-process baseline" target, since
// govauth does the baseline's work plus its own. Alternating rounds, as the other benchmarks.
// Usage: npm run bench:scaling   Knobs: BENCH_ROUNDS (3), BENCH_DURATION (6 s), WORKERS (2).
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { load } from './lib/load.ts';
import { startChild } from './lib/processes.ts';

const baseline = fileURLToPath(new URL('./baseline-server.ts', import.meta.url));
const workers = Number(process.env.WORKERS ?? 2);

if (process.argv[2] === '--cluster') {
  // The primary of the N-worker baseline: workers listening on port 0 share one port.
  cluster.setupPrimary({ exec: baseline, silent: true }); // piped, to see each worker ready
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    const worker = cluster.fork();
    worker.process.stderr?.pipe(process.stderr);
    worker.process.stdout?.on('data', (d: Buffer) => {
      const m = /ready (http:\/\/\S+)/.exec(d.toString());
      if (m && ++ready === workers) console.log(`ready ${m[1]}`); // all N serve before load starts
    });
  }
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const durationSec = Number(process.env.BENCH_DURATION ?? 6);
  const me = fileURLToPath(import.meta.url);
  const ratios: number[] = [];
  console.log(`bare oidc-provider, 1 process against ${workers} workers; autocannon -c 32, ${rounds} rounds of ${durationSec} s; ${new Date().toISOString()}`);
  for (let round = 0; round < rounds; round++) {
    const rps: number[] = [];
    for (const args of [[], ['--cluster']]) {
      const server = await startChild(args.length ? me : baseline, { WORKERS: String(workers) }, /ready (http:\/\/\S+)/, args);
      const options = {
        url: `${server.url}/token`,
        method: 'POST' as const,
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('bench:bench-secret').toString('base64')}` },
        body: 'grant_type=client_credentials',
        connections: 32,
      };
      try {
        await load('warm-up', { ...options, durationSec: 2 });
        const r = await load('run', { ...options, durationSec });
        if (r.non2xx || r.errors) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors`);
        rps.push(r.rps);
      } finally {
        await server.stop();
      }
    }
    ratios.push(rps[1]! / rps[0]!);
    console.log(`round ${round + 1}: 1 process ${rps[0]} req/s, ${workers} workers ${rps[1]} req/s (${ratios.at(-1)!.toFixed(2)}×)`);
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  console.log(`median: ${workers} workers = ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)}× one process`);
}
