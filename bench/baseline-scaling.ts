// How far bare oidc-provider itself scales from one process to N cluster workers on this
// machine: the ceiling for any "N workers against the single-process baseline" target, since
// govauth does the baseline's work plus its own. Alternating rounds (lib/rounds.ts), as the others.
// Usage: npm run bench:scaling   Knobs: BENCH_ROUNDS (4), BENCH_DURATION (6 s), WORKERS (2).
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { baselineTokenRequest } from './lib/issuance.ts';
import { startChild } from './lib/processes.ts';
import { alternate, ratioTable } from './lib/rounds.ts';
import { systemClock } from '../src/time/clock.ts';

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
  const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
  const durationSec = Number(process.env.BENCH_DURATION ?? 6);
  console.log(`bare oidc-provider, 1 process against ${workers} workers; autocannon -c 32, ${rounds} alternating rounds of ${durationSec} s; ${new Date(systemClock()).toISOString()}`);
  const single = await startChild(baseline, {}, /ready (http:\/\/\S+)/);
  const multi = await startChild(fileURLToPath(import.meta.url), { WORKERS: String(workers) }, /ready (http:\/\/\S+)/, ['--cluster']);
  try {
    const candidates = [
      { name: 'bare oidc-provider, 1 process', options: baselineTokenRequest(single.url, 32), rssMb: single.rssPeakMb },
      { name: `bare oidc-provider, ${workers} workers`, options: baselineTokenRequest(multi.url, 32), rssMb: multi.rssPeakMb },
    ];
    const outcome = await alternate(candidates, rounds, durationSec);
    console.log(ratioTable(candidates, outcome, rounds, { reference: 'reference', versus: 'one process' }));
  } finally {
    await multi.stop();
    await single.stop();
  }
}
