// The benchmark suite (npm run bench): issuance, introspection and refresh on govauth with 1 and
// 2 workers, token exchange against client_credentials, against a bare oidc-provider baseline
// and the machine's raw RS256 signing rate, all measured in this run. SQLite by default;
// DATABASE_URL=postgresql://… benches PostgreSQL.
// Knobs: BENCH_ROUNDS (default 3), BENCH_DURATION (s per run, default 5), BENCH_CONNECTIONS (32).
// Results: printed, and written to bench/results/<timestamp>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createFixture } from './lib/govauth-fixture.ts';
import { baselineTokenRequest, govauthTokenRequest } from './lib/issuance.ts';
import { basicAuth, FORM, formatTable, type LoadResult } from './lib/load.ts';
import { startChild } from './lib/processes.ts';
import { rawRs256SignRate } from './lib/raw-signing.ts';
import { refreshLoad, refreshTokenPool } from './lib/refresh-load.ts';
import { alternate, median } from './lib/rounds.ts';
import { exchangeCandidates, requireAllOk } from './lib/token-exchange.ts';
import { dpopTokenRequest } from './lib/dpop-load.ts';
import { policyCandidates } from './lib/policy-load.ts';
import { systemClock } from '../src/time/clock.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

interface Row extends LoadResult {
  rssMb?: number;
  ratio?: string;
}

async function startupMs(): Promise<{ fresh: number; existing: number }> {
  const fixture = await createFixture();
  const measure = async (): Promise<number> => {
    const started = performance.now();
    const child = await fixture.start();
    const ms = performance.now() - started;
    await child.stop();
    return Math.round(ms);
  };
  // The fixture database is already migrated and keyed (the CLI created it): measure a restart,
  // then a start on an empty data directory through a second fixture's raw environment.
  const existing = await measure();
  await fixture.drop();
  const fresh = await createFixture();
  const started = performance.now();
  const child = await startChild(here('../src/main.ts'), { ...fresh.env, DATABASE_URL: fresh.env.DATABASE_URL?.startsWith('file:') ? `file:${fresh.env.GOVAUTH_DATA_DIR}/fresh.db` : (fresh.env.DATABASE_URL ?? '') }, /"listening":"(http:\/\/[^"]+)"/);
  const freshMs = Math.round(performance.now() - started);
  await child.stop();
  await fresh.drop();
  return { fresh: freshMs, existing };
}

async function main(): Promise<void> {
  const kind = process.env.DATABASE_URL?.startsWith('postgres') ? 'postgresql' : 'sqlite';
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  console.log(`govauth benchmark: ${kind}; ${availableParallelism()} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}`);
  console.log(`autocannon -c ${connections}; ${rounds} alternating rounds of ${duration} s; ${new Date(systemClock()).toISOString()}\n`);

  const signRate = rawRs256SignRate();
  console.log(`raw RS256 signing, one core (node:crypto): ${signRate} signatures/s\n`);

  const baseline = await startChild(here('./baseline-server.ts'), {}, /ready (http:\/\/\S+)/);
  const fixture = await createFixture();
  const single = await fixture.start({ GOVAUTH_WORKERS: '1' });
  const dual = await fixture.start({ GOVAUTH_WORKERS: '2' });
  const rows: Row[] = [];
  const out: Record<string, unknown> = { date: new Date(systemClock()).toISOString(), database: kind, cores: availableParallelism(), cpu, node: process.version, signRate };
  try {
    const singleIssuance = govauthTokenRequest(single.url, fixture.bot, connections);
    const dualIssuance = govauthTokenRequest(dual.url, fixture.bot, connections);
    const issuance = await alternate(
      [
        { name: 'issuance: bare oidc-provider, 1 process', options: baselineTokenRequest(baseline.url, connections), rssMb: baseline.rssPeakMb },
        { name: `issuance: govauth 1 worker (${kind}, argon2id, audit)`, options: singleIssuance, rssMb: single.rssPeakMb },
        { name: `issuance: govauth 2 workers (${kind}, argon2id, audit)`, options: dualIssuance, rssMb: dual.rssPeakMb },
      ],
      rounds,
      duration,
    );
    const names = Object.keys(issuance.results);
    const [b, one, two] = names.map((n) => issuance.results[n]!);
    rows.push({ ...b!, ratio: 'baseline' });
    rows.push({ ...one!, ratio: `${issuance.ratios[names[1]!]!.toFixed(2)}× baseline; ${((one!.rps / signRate) * 100).toFixed(0)}% of raw signing` });
    rows.push({ ...two!, ratio: `${issuance.ratios[names[2]!]!.toFixed(2)}× baseline; ${((two!.rps / signRate) * 100).toFixed(0)}% of raw signing` });

    // What the audit trail costs: one process with it, one whose writer discards records.
    const noAudit = await fixture.startWithoutAudit();
    try {
      const audit = await alternate(
        [
          { name: `issuance: govauth 1 worker, audit discarded`, options: govauthTokenRequest(noAudit.url, fixture.bot, connections), rssMb: noAudit.rssPeakMb },
          { name: `issuance: govauth 1 worker, audit on (reference)`, options: singleIssuance, rssMb: single.rssPeakMb },
        ],
        rounds,
        duration,
      );
      const aNames = Object.keys(audit.results);
      rows.push({ ...audit.results[aNames[0]!]!, ratio: 'audit-off reference' });
      rows.push({ ...audit.results[aNames[1]!]!, ratio: `${audit.ratios[aNames[1]!]!.toFixed(2)}× audit off` });
      out.audit = audit;
    } finally {
      await noAudit.stop();
    }

    // Introspection against issuance on the 2-worker instance, same run.
    const issued = (await (await fetch(dualIssuance.url, { method: 'POST', headers: dualIssuance.headers, body: dualIssuance.body })).json()) as { access_token: string };
    const introspection = await alternate(
      [
        { name: 'issuance (reference), 2 workers', options: dualIssuance, rssMb: dual.rssPeakMb },
        {
          name: 'introspection, 2 workers',
          options: { url: `${dual.url}/token/introspection`, method: 'POST', headers: { ...FORM, authorization: basicAuth(fixture.rs.client_id, fixture.rs.client_secret) }, body: `token=${issued.access_token}&token_type_hint=access_token`, connections },
          rssMb: dual.rssPeakMb,
        },
      ],
      rounds,
      duration,
    );
    const iNames = Object.keys(introspection.results);
    rows.push({ ...introspection.results[iNames[1]!]!, ratio: `${introspection.ratios[iNames[1]!]!.toFixed(2)}× issuance of the same rounds` });

    // Refresh with rotation: each connection chains its own refresh token.
    const pool = await refreshTokenPool(dual.url.replace('127.0.0.1', 'localhost'), fixture.app, connections);
    const refreshRuns: LoadResult[] = [];
    for (let r = 0; r < rounds; r++) {
      // Tokens in flight when a run stops are lost (their rotation answers are never read).
      if (pool.length < connections) pool.push(...(await refreshTokenPool(dual.url.replace('127.0.0.1', 'localhost'), fixture.app, connections - pool.length)));
      refreshRuns.push(await refreshLoad('refresh (rotating), 2 workers', dual.url, fixture.app, pool, duration));
    }
    const refresh = refreshRuns[0]!;
    rows.push({ ...refresh, rps: Math.round(median(refreshRuns.map((x) => x.rps))), p50: median(refreshRuns.map((x) => x.p50)), p99: median(refreshRuns.map((x) => x.p99)), rssMb: dual.rssPeakMb(), ratio: '' });

    // Token exchange (RFC 8693) against client_credentials for the same agent, 1 worker.
    // DPoP-bound client_credentials (RFC 9449) for the same agent, in the same rounds: what a
    // proof per request (verify, replay check, cnf) costs against the bearer reference.
    const exchangeLoads = [
      ...(await exchangeCandidates(single, fixture, connections, 2 * (2 + rounds * duration))),
      { name: 'client_credentials DPoP-bound, agent', options: await dpopTokenRequest(single.url, fixture.agent, connections), rssMb: single.rssPeakMb },
    ];
    const exchange = await alternate(exchangeLoads, rounds, duration, requireAllOk);
    const [cc, te] = exchangeLoads.map((c) => c.name);
    rows.push({ ...exchange.results[cc!]!, name: `${cc!}, 1 worker`, ratio: 'exchange reference' });
    rows.push({ ...exchange.results[te!]!, name: `${te!}, 1 worker`, ratio: `${exchange.ratios[te!]!.toFixed(2)}× client_credentials of the same rounds` });
    const dp = exchangeLoads[2]!.name;
    rows.push({ ...exchange.results[dp]!, name: `${dp}, 1 worker`, ratio: `${exchange.ratios[dp]!.toFixed(2)}× bearer client_credentials of the same rounds` });
    // Issuance with 50 Cedar policies against none (issue 24: at most 10 % lost), same rounds.
    const policy = await policyCandidates(connections);
    try {
      const governed = await alternate(policy.candidates, rounds, duration, requireAllOk);
      const [none, fifty] = policy.candidates.map((c) => c.name);
      rows.push({ ...governed.results[none!]!, ratio: 'policy reference' });
      rows.push({ ...governed.results[fifty!]!, ratio: `${governed.ratios[fifty!]!.toFixed(2)}× no policy set, same rounds` });
      out.policies = governed;
    } finally {
      await policy.stop();
    }
    out.issuance = issuance;
    out.introspection = introspection;
    out.refresh = refreshRuns;
    out.exchange = exchange;
  } finally {
    await Promise.all([single.stop(), dual.stop(), baseline.stop()]);
    await fixture.drop();
  }
  const startup = await startupMs();
  out.startup = startup;
  console.log(formatTable(rows));
  console.log(`\nstartup to ready (${kind}, single process): ${startup.fresh} ms on an empty data directory, ${startup.existing} ms on an existing one`);
  const failures = rows.reduce((n, r) => n + r.non2xx + r.errors, 0);
  console.log(failures ? `\nNON-2XX OR ERRORS: ${failures}` : '\nno non-2xx responses and no errors in any run');
  if (failures) process.exitCode = 1;
  mkdirSync(here('./results/'), { recursive: true });
  const file = here(`./results/${new Date(systemClock()).toISOString().replace(/[:.]/g, '-')}-${kind}.json`);
  writeFileSync(file, JSON.stringify({ ...out, rows }, null, 2));
  console.log(`results: ${file}`);
}

await main();
