// Label-cardinality attack: every distinct label value is a new time series held in memory
// and sent with every scrape, so anything a caller chooses (client_id, grant_type, path) must
// not become a label value. A flood of random ones leaves the series count where it was.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API } from '../helpers/people.ts';
import { parseMetrics, samples } from '../helpers/metrics-text.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const TOKEN = randomBytes(32).toString('hex');
let t: TestServer;
let bot: ClientCreds;

const scrapeText = async (): Promise<string> => (await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();

beforeAll(async () => {
  t = await startTestServer({ env: { GOVAUTH_METRICS_TOKEN: TOKEN } });
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

describe('metric labels under hostile input', () => {
  it('does not grow a series per random client_id, grant_type or path', async () => {
    const random = (): string => `zz${randomBytes(6).toString('hex')}`;
    const sent: string[] = [];
    const round = async (): Promise<void> => {
      const id = random();
      const grant = random();
      const path = random();
      sent.push(id, grant, path);
      await Promise.all([
        tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: { client_id: id, client_secret: 'x' } }),
        tokenRequest(t.url, { grant_type: 'client_credentials', resource: API, client_id: id }),
        tokenRequest(t.url, { grant_type: grant, resource: API }, { basic: bot }),
        fetch(`${t.url}/${path}`),
        fetch(`${t.url}/admin/v1/${path}`),
        fetch(`${t.url}/interaction/${path}/login`),
      ]);
    };
    await round();
    await scrapeText(); // so the scrape's own request series exist before counting
    const seriesBefore = parseMetrics(await scrapeText()).filter((s) => s.name.startsWith('govauth_')).length;
    for (let i = 0; i < 10; i++) await round();
    const text = await scrapeText();
    const after = parseMetrics(text);
    expect(after.filter((s) => s.name.startsWith('govauth_')).length).toBe(seriesBefore);
    for (const value of sent) expect(text).not.toContain(value);
    const refusalClients = new Set(samples(after, 'govauth_token_refusals_total').map((s) => s.labels.client_id));
    expect([...refusalClients].sort()).toEqual([bot.client_id, 'unknown'].sort());
    expect(new Set(samples(after, 'govauth_token_refusals_total').map((s) => s.labels.grant_type))).toEqual(new Set(['client_credentials', 'other']));
  }, 90_000); // each unknown client_id with a secret is answered as late as an argon2 check
});
