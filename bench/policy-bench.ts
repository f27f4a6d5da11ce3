// Issuance with 50 Cedar policies against none (issue 24: at most 10 % lost), alternating rounds
// on two identical fixtures. Usage: npm run bench:policy   (DATABASE_URL=postgresql://… for PostgreSQL)
// Knobs: BENCH_ROUNDS (default 5), BENCH_DURATION (s per run, default 5), BENCH_CONNECTIONS (32).
// Any non-2xx answer or error fails the run.
import { policyCandidates } from './lib/policy-load.ts';
import { alternate, ratioTable } from './lib/rounds.ts';
import { requireAllOk } from './lib/token-exchange.ts';
import { systemClock } from '../src/time/clock.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const kind = process.env.DATABASE_URL?.startsWith('postgres') ? 'postgresql' : 'sqlite';
console.log(`issuance with 50 Cedar policies vs none; govauth 1 worker each, ${kind}; autocannon -c ${connections}, ${rounds} alternating rounds of ${duration} s; ${new Date(systemClock()).toISOString()}`);
const { candidates, stop } = await policyCandidates(connections);
try {
  const outcome = await alternate(candidates, rounds, duration, requireAllOk);
  console.log(ratioTable(candidates, outcome, rounds, { reference: 'reference', versus: 'no policy set' }));
} finally {
  await stop();
}
