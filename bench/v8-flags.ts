// The V8 heap settings of a server process, as a trade-off: issuance throughput against peak
// RSS. Each variant is a fresh govauth process (1 worker, same SQLite fixture) given the
// flags, loaded with client_credentials then introspection (which allocates differently),
// in alternating rounds beside bare oidc-provider so every figure is a ratio from the same
// conditions. The cap to respect is 256 MB RSS per process (issue "performance round 2").
// Usage: npm run bench:v8   Knobs: BENCH_ROUNDS (6), BENCH_DURATION (s, 5), BENCH_VARIANTS
// ("semi:old" MB pairs, default "4:192,8:192,16:192,32:192"; 0 leaves that limit to V8).
import { fileURLToPath } from 'node:url';
import { createFixture } from './lib/govauth-fixture.ts';
import { baselineTokenRequest, govauthTokenRequest } from './lib/issuance.ts';
import { basicAuth, FORM, load, type LoadOptions } from './lib/load.ts';
import { startChild } from './lib/processes.ts';
import { median } from './lib/rounds.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const variants = (process.env.BENCH_VARIANTS ?? '4:192,8:192,16:192,32:192').split(',');
const flagsOf = (variant: string): string[] => {
  const [semi, old] = variant.split(':').map(Number);
  return [...(semi ? [`--max-semi-space-size=${semi}`] : []), ...(old ? [`--max-old-space-size=${old}`] : [])];
};
const label = (variant: string): string => flagsOf(variant).join(' ') || "V8's defaults";
const connections = 32;

interface Tally {
  issue: number[];
  introspect: number[];
  ratio: number[];
  p99: number[];
  rss: number;
}

const fixture = await createFixture();
const baseline = await startChild(fileURLToPath(new URL('./baseline-server.ts', import.meta.url)), {}, /ready (http:\/\/\S+)/);
const tallies = new Map<string, Tally>(variants.map((v) => [v, { issue: [], introspect: [], ratio: [], p99: [], rss: 0 }]));
try {
  const bare: LoadOptions = baselineTokenRequest(baseline.url, connections);
  await load('baseline warm-up', { ...bare, durationSec: 2 });
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    const base = await load('bare oidc-provider', { ...bare, durationSec: duration });
    for (const variant of order) {
      const server = await fixture.start({ GOVAUTH_WORKERS: '1' }, flagsOf(variant));
      try {
        const issue = govauthTokenRequest(server.url, fixture.bot, connections);
        await load('warm-up', { ...issue, durationSec: 2 });
        const r = await load(label(variant), { ...issue, durationSec: duration });
        const token = ((await (await fetch(issue.url, { method: 'POST', headers: issue.headers, body: issue.body })).json()) as { access_token: string }).access_token;
        const i = await load(`introspection, ${label(variant)}`, {
          url: `${server.url}/token/introspection`,
          method: 'POST',
          headers: { ...FORM, authorization: basicAuth(fixture.rs.client_id, fixture.rs.client_secret) },
          body: `token=${token}&token_type_hint=access_token`,
          connections,
          durationSec: duration,
        });
        if (r.non2xx || i.non2xx) throw new Error(`non-2xx answers with ${label(variant)}`);
        const t = tallies.get(variant) as Tally;
        t.issue.push(r.rps);
        t.introspect.push(i.rps);
        t.ratio.push(r.rps / base.rps);
        t.p99.push(r.p99);
        t.rss = Math.max(t.rss, server.rssPeakMb());
        console.log(`round ${round + 1} ${label(variant)}: issuance ${r.rps} req/s (${(r.rps / base.rps).toFixed(2)}× bare ${base.rps}), introspection ${i.rps} req/s, peak RSS ${server.rssPeakMb()} MB`);
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  await baseline.stop();
  await fixture.drop();
}
console.log('\n| V8 flags | issuance | × bare oidc-provider | p99 | introspection | peak RSS |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [variant, t] of tallies) {
  console.log(`| ${label(variant)} | ${Math.round(median(t.issue))} req/s | ${median(t.ratio).toFixed(2)}× | ${median(t.p99)} ms | ${Math.round(median(t.introspect))} req/s | ${t.rss} MB |`);
}
