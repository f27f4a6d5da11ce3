// Refused token requests without a valid client secret (public clients, unknown client_ids,
// requests with no client authentication, bogus codes) cost the sender nothing. A burst of them
// from one address must add O(1) records to the audit trail (a few in full, then one summary
// per address and window carrying the count), not one record per request under the lock that
// issuance waits on; other addresses, authenticated clients and successful issuance are
// recorded as always.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FULL_RECORDS_PER_WINDOW, SUMMARY_ACTION } from '../../src/audit/refusal-summary.ts';
import { basic, type ClientCreds } from '../helpers/oauth.ts';
import { API, REDIRECT } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const BURST = 60;
let t: TestServer;
let bot: ClientCreds;
let spa: string;
let offset = 0; // how far the test has moved govauth's clock

beforeAll(async () => {
  t = await startTestServer({ env: { GOVAUTH_TRUST_PROXY: 'true' } }); // each test has its own address
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  spa = (await t.cliJson<{ client_id: string }>('client', 'create', '--name', 'spa', '--grant', 'authorization_code', '--redirect-uri', REDIRECT, '--public')).client_id;
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

const advance = (ms: number): void => {
  offset += ms;
  t.advance(ms);
};
/** Moves govauth's clock to just after the start of a summary window, so a burst fits in one. */
const startOfWindow = (): void => advance(60_000 - ((Date.now() + offset) % 60_000) + 100);

async function token(from: string, params: Record<string, string>, auth?: ClientCreds) {
  const res = await fetch(`${t.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from, ...(auth && { authorization: basic(auth) }) },
    body: new URLSearchParams(params),
  });
  const body = (await res.json()) as { error?: string };
  return { status: res.status, error: body.error, requestId: res.headers.get('x-request-id') ?? '' };
}

/** Three kinds of unauthenticated refusal, in turn. */
const unauthenticated = (from: string, i: number) =>
  [
    () => token(from, { grant_type: 'authorization_code', client_id: spa, code: `bogus-${i}`, redirect_uri: REDIRECT, code_verifier: 'v'.repeat(43) }), // public client, bogus code
    () => token(from, { grant_type: 'client_credentials', client_id: `cl_unknown${Math.floor(i / 3) % 3}` }), // unknown client_id, no secret
    () => token(from, { grant_type: 'client_credentials', resource: API }), // no client authentication at all
  ][i % 3]!();

async function recordsFrom(ip: string) {
  await t.server.audit.flush();
  return t.server.db.prisma.auditEvent.findMany({ where: { ip }, orderBy: { seq: 'asc' } });
}
async function recordOf(requestId: string) {
  await t.server.audit.flush();
  return t.server.db.prisma.auditEvent.findFirst({ where: { requestId } });
}

describe('a flood of unauthenticated token refusals from one address', () => {
  it(`adds ${FULL_RECORDS_PER_WINDOW} full records and one summary with the count, whatever its size`, async () => {
    const from = '198.51.100.66';
    startOfWindow();
    const before = t.server.audit.stats.records;
    const answers = [];
    for (let i = 0; i < BURST; i++) answers.push(await unauthenticated(from, i));
    // Every request was answered as before: the summary changes the trail, not the protocol.
    expect(new Set(answers.map((a) => `${a.status} ${a.error}`))).toEqual(new Set(['400 invalid_grant', '401 invalid_client']));
    // The first refusals of the window are recorded in full, with their request ids; the rest
    // took no audit write (and so no audit lock) at all.
    const full = await recordsFrom(from);
    expect(full.map((r) => r.action)).toEqual(Array<string>(FULL_RECORDS_PER_WINDOW).fill('token.refused'));
    expect(full.map((r) => r.requestId)).toEqual(answers.slice(0, FULL_RECORDS_PER_WINDOW).map((a) => a.requestId));
    expect(t.server.audit.stats.records - before).toBe(FULL_RECORDS_PER_WINDOW);

    // When the window ends, one summary for the address carries what the trail did not get.
    advance(60_000);
    await vi.waitFor(async () => expect((await recordsFrom(from)).map((r) => r.action)).toContain(SUMMARY_ACTION), { timeout: 5000, interval: 100 });
    const rows = await recordsFrom(from);
    expect(rows).toHaveLength(FULL_RECORDS_PER_WINDOW + 1);
    const summary = rows.at(-1)!;
    const detail = JSON.parse(summary.detail) as Record<string, unknown>;
    const summarised = answers.slice(FULL_RECORDS_PER_WINDOW);
    const byError = (error: string) => summarised.filter((a) => a.error === error).length;
    expect(summary).toMatchObject({ action: SUMMARY_ACTION, ip: from, outcome: 'failure', requestId: null });
    expect(detail).toMatchObject({
      count: BURST - FULL_RECORDS_PER_WINDOW,
      recorded_in_full: FULL_RECORDS_PER_WINDOW,
      window_seconds: 60,
      errors: { invalid_grant: byError('invalid_grant'), invalid_client: byError('invalid_client') },
      grant_types: { authorization_code: BURST / 3 - 2, client_credentials: (2 * BURST) / 3 - 3 },
    });
    expect(new Set(detail.client_ids as string[])).toEqual(new Set([spa, 'cl_unknown0', 'cl_unknown1', 'cl_unknown2']));
    expect(Date.parse(String(detail.first_at))).toBeLessThanOrEqual(Date.parse(String(detail.last_at)));

    // The next window starts with full records again.
    const next = await unauthenticated(from, 0);
    expect(await recordOf(next.requestId)).toMatchObject({ action: 'token.refused', ip: from });
  });

  it('leaves other addresses, authenticated clients and successful issuance recorded in full', async () => {
    const from = '198.51.100.67';
    startOfWindow();
    for (let i = 0; i < BURST; i++) await unauthenticated(from, i);

    // Another address: its own allowance, untouched by the flood.
    const other = await unauthenticated('198.51.100.68', 0);
    expect(await recordOf(other.requestId)).toMatchObject({ action: 'token.refused', ip: '198.51.100.68' });
    // From the flooded address: a client that authenticated is refused and recorded in full...
    const scoped = await token(from, { grant_type: 'client_credentials', resource: API, scope: 'no.such.scope' }, bot);
    expect(scoped.error).toBe('invalid_scope');
    expect(await recordOf(scoped.requestId)).toMatchObject({ action: 'token.refused', clientId: bot.client_id, ip: from });
    // ...and a token issued from it is recorded in full, every time.
    for (let i = 0; i < 3; i++) {
      const issued = await token(from, { grant_type: 'client_credentials', resource: API }, bot);
      expect(issued.status).toBe(200);
      expect(await recordOf(issued.requestId)).toMatchObject({ action: 'token.issued', clientId: bot.client_id, ip: from });
    }
    // A summary is written at shutdown too, for a window that has not ended yet.
    await t.server.refusals.flush(true);
    const summaries = (await recordsFrom(from)).filter((r) => r.action === SUMMARY_ACTION);
    expect(summaries.map((r) => (JSON.parse(r.detail) as { count: number }).count)).toEqual([BURST - FULL_RECORDS_PER_WINDOW]);
  });
});
