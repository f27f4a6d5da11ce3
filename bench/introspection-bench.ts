// Introspection of a JWT access token by a resource server, against client_credentials
// issuance, both on the same govauth instance and in the same run (alternating rounds).
// Target: introspection ≥ 2× the issuance rate. Usage: npm run bench:introspection
import { createFixture } from './lib/govauth-fixture.ts';
import { govauthTokenRequest } from './lib/issuance.ts';
import { basicAuth, FORM } from './lib/load.ts';
import { alternate, ratioTable, type RoundsResult } from './lib/rounds.ts';
import { systemClock } from '../src/time/clock.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);

export async function introspectionBench(): Promise<RoundsResult> {
  const fixture = await createFixture();
  const govauth = await fixture.start();
  try {
    const issuance = govauthTokenRequest(govauth.url, fixture.bot, connections);
    const issued = await fetch(issuance.url, { method: 'POST', headers: issuance.headers, body: issuance.body });
    const { access_token: token } = (await issued.json()) as { access_token: string };
    const introspectHeaders = { ...FORM, authorization: basicAuth(fixture.rs.client_id, fixture.rs.client_secret) };
    const introspectBody = `token=${token}&token_type_hint=access_token`;
    const probe = (await (await fetch(`${govauth.url}/token/introspection`, { method: 'POST', headers: introspectHeaders, body: introspectBody })).json()) as { active: boolean };
    if (!probe.active) throw new Error('introspection probe: token not active');

    const kind = fixture.env.DATABASE_URL?.startsWith('file:') ? 'sqlite' : 'postgresql';
    const candidates = [
      { name: `client_credentials issuance (${kind})`, options: issuance, rssMb: govauth.rssPeakMb },
      { name: `introspection (${kind})`, options: { url: `${govauth.url}/token/introspection`, method: 'POST' as const, headers: introspectHeaders, body: introspectBody, connections }, rssMb: govauth.rssPeakMb },
    ];
    const outcome = await alternate(candidates, rounds, duration);
    console.log(ratioTable(candidates, outcome, rounds, { reference: 'reference', versus: 'issuance' }));
    return outcome;
  } finally {
    await govauth.stop();
    await fixture.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`introspection vs client_credentials; autocannon -c ${connections}, ${rounds} alternating rounds of ${duration} s; ${new Date(systemClock()).toISOString()}`);
  await introspectionBench();
}
