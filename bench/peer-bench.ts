// govauth against a peer: better-auth with @better-auth/oauth-provider (bench/peer/better-auth),
// both issuing RS256 JWT access tokens for one resource by client_credentials, each one process
// on its own fresh on-disk SQLite file, measured in the same run in alternating rounds.
// Issue 18 target: govauth ≥ 8× the peer's throughput.
// Install the peer once: npm ci --prefix bench/peer/better-auth
// Usage: npx node bench/peer-bench.ts
// Knobs: BENCH_ROUNDS (default 6), BENCH_DURATION (s per run, default 5), BENCH_CONNECTIONS (32).
// Results: printed, and written to bench/results/<timestamp>-peer.json. Exits 1 on any failed request.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createFixture } from './lib/govauth-fixture.ts';
import { govauthTokenRequest } from './lib/issuance.ts';
import type { LoadResult } from './lib/load.ts';
import { startPeer, peerTokenRequest, peerVersions } from './lib/peer-better-auth.ts';
import { alternate, ratioTable } from './lib/rounds.ts';
import { verifySampleToken } from './lib/verify-access-token.ts';
import { onPostgres } from '../test/helpers/test-database.ts';
import { systemClock } from '../src/time/clock.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const TARGET = 8;
const PEER = 'better-auth + oauth-provider (sqlite, sha-256 secret)';
const GOVAUTH = 'govauth, 1 worker (sqlite, argon2id secret, audit)';

async function main(): Promise<number> {
  // The peer runs on SQLite only; a PostgreSQL govauth against it would compare two databases.
  if (onPostgres()) throw new Error('the peer comparison runs on SQLite: unset DATABASE_URL');
  const versions = peerVersions(); // fails with the install command before anything starts
  const started = new Date(systemClock()).toISOString();
  console.log(`govauth vs ${Object.entries(versions).map(([n, v]) => `${n} ${v}`).join(', ')}; node ${process.version}; ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'})`);
  console.log(`client_credentials → RS256 JWT access token for one resource; autocannon -c ${connections}, ${rounds} alternating rounds of ${duration} s; ${started}\n`);

  const peer = await startPeer();
  const fixture = await createFixture();
  const govauth = await fixture.start();
  try {
    const candidates = [
      { name: PEER, options: peerTokenRequest(peer.info, connections), rssMb: peer.child.rssPeakMb },
      { name: GOVAUTH, options: govauthTokenRequest(govauth.url, fixture.bot, connections), rssMb: govauth.rssPeakMb },
    ];
    const discovery = (await (await fetch(`${govauth.url}/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string };
    const samples = {
      [PEER]: await verifySampleToken(PEER, candidates[0]!.options, { issuer: peer.info.issuer, jwksUrl: peer.info.jwksUrl, audience: peer.info.resource }),
      [GOVAUTH]: await verifySampleToken(GOVAUTH, candidates[1]!.options, { issuer: discovery.issuer, jwksUrl: discovery.jwks_uri, audience: 'https://models.example' }),
    };
    for (const [name, s] of Object.entries(samples)) console.log(`sample from ${name}: ${JSON.stringify(s.header)} claims ${Object.keys(s.claims).sort().join(',')}`);
    console.log('');

    const runs: (LoadResult & { round: number })[] = [];
    const outcome = await alternate(candidates, rounds, duration, (round, r) => {
      runs.push({ ...r, round });
      console.log(`round ${round}  ${r.name.padEnd(PEER.length)}  ${String(r.rps).padStart(6)} req/s  p99 ${String(r.p99).padStart(4)} ms  non-2xx ${r.non2xx}  errors ${r.errors}`);
    });
    console.log(`\n${ratioTable(candidates, outcome, rounds, { reference: 'peer reference', versus: 'peer' })}`);
    const ratio = outcome.ratios[GOVAUTH] ?? 0;
    const perRound = Array.from({ length: rounds }, (_, i) => {
      const of = (name: string): number => runs.find((r) => r.round === i + 1 && r.name === name)?.rps ?? 0;
      return of(GOVAUTH) / (of(PEER) || 1);
    });
    console.log(`\ngovauth / better-auth: ${ratio.toFixed(2)}× (median of ${rounds} rounds; per round ${perRound.map((x) => x.toFixed(2)).join(', ')}); target ≥ ${TARGET}×: ${ratio >= TARGET ? 'met' : 'not met'}`);

    const failed = runs.reduce((n, r) => n + r.non2xx + r.errors, 0);
    const file = fileURLToPath(new URL(`./results/${started.replace(/[:.]/g, '-')}-peer.json`, import.meta.url));
    mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({ started, node: process.version, cores: availableParallelism(), peer: versions, rounds, duration, connections, runs, results: outcome.results, ratio, perRound, target: TARGET, samples }, null, 2),
    );
    console.log(`results: ${file}`);
    if (failed > 0) console.error(`FAILED: ${failed} non-2xx responses or errors`);
    return failed > 0 ? 1 : 0;
  } finally {
    await govauth.stop();
    await peer.stop();
    await fixture.drop();
  }
}

process.exitCode = await main();
