// client_credentials issuance: govauth (database, argon2id secrets, governance) against bare
// oidc-provider (in-memory, static client, same token format), measured in the same run.
// Usage: npm run bench:token   (DATABASE_URL=postgresql://… benches govauth on PostgreSQL)
// Knobs: BENCH_ROUNDS (default 5), BENCH_DURATION (s per run, default 5), BENCH_CONNECTIONS (32).
import { fileURLToPath } from 'node:url';
import { createFixture } from './lib/govauth-fixture.ts';
import { baselineTokenRequest, govauthTokenRequest } from './lib/issuance.ts';
import { startChild } from './lib/processes.ts';
import { compareWithBaseline, type RoundsResult } from './lib/rounds.ts';
import { systemClock } from '../src/time/clock.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);

export async function tokenBench(): Promise<RoundsResult> {
  const baseline = await startChild(fileURLToPath(new URL('./baseline-server.ts', import.meta.url)), {}, /ready (http:\/\/\S+)/);
  const fixture = await createFixture();
  const govauth = await fixture.start();
  const kind = fixture.env.DATABASE_URL?.startsWith('file:') ? 'sqlite' : 'postgresql';
  try {
    const candidates = [
      { name: 'bare oidc-provider (memory, static client)', options: baselineTokenRequest(baseline.url, connections), rssMb: baseline.rssPeakMb },
      { name: `govauth (${kind}, argon2id secrets)`, options: govauthTokenRequest(govauth.url, fixture.bot, connections), rssMb: govauth.rssPeakMb },
    ];
    return await compareWithBaseline(candidates, rounds, duration);
  } finally {
    await govauth.stop();
    await baseline.stop();
    await fixture.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`client_credentials → RS256 at+jwt; autocannon -c ${connections}, ${rounds} alternating rounds of ${duration} s; ${new Date(systemClock()).toISOString()}`);
  await tokenBench();
}
