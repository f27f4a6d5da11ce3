// Token exchange (RFC 8693) against client_credentials for the same agent, on one govauth server
// and in the same run (alternating rounds): the exchange verifies one JWT and signs one, the
// reference signs one. Usage: npm run bench:exchange   (DATABASE_URL=postgresql://… for PostgreSQL)
// Knobs: BENCH_ROUNDS (default 5), BENCH_DURATION (s per run, default 5), BENCH_CONNECTIONS (32),
// GOVAUTH_WORKERS (1). Any non-2xx answer or error fails the run.
import { createFixture } from './lib/govauth-fixture.ts';
import { alternate, ratioTable, type RoundsResult } from './lib/rounds.ts';
import { exchangeCandidates, requireAllOk } from './lib/token-exchange.ts';
import { systemClock } from '../src/time/clock.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const workers = process.env.GOVAUTH_WORKERS ?? '1';

async function tokenExchangeBench(): Promise<RoundsResult> {
  const fixture = await createFixture();
  const govauth = await fixture.start({ GOVAUTH_WORKERS: workers });
  try {
    // Two warm-ups of 2 s, then two runs a round.
    const candidates = await exchangeCandidates(govauth, fixture, connections, 2 * (2 + rounds * duration));
    const outcome = await alternate(candidates, rounds, duration, requireAllOk);
    console.log(ratioTable(candidates, outcome, rounds, { reference: 'reference', versus: 'client_credentials' }));
    return outcome;
  } finally {
    await govauth.stop();
    await fixture.drop();
  }
}

const kind = process.env.DATABASE_URL?.startsWith('postgres') ? 'postgresql' : 'sqlite';
console.log(`token exchange vs client_credentials, same agent; govauth ${workers} worker(s), ${kind}; autocannon -c ${connections}, ${rounds} alternating rounds of ${duration} s; ${new Date(systemClock()).toISOString()}`);
await tokenExchangeBench();
