// Hostile input to the account pages (src/account): every malformed, forged or foreign request is
// answered with govauth's HTML error page and a sentence saying what is wrong, a 4xx and never a
// 500, and changes nothing. Also: the account pages' own client cannot be turned into a way to
// get tokens, and catalogue clients cannot use its response type.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { field } from '../helpers/cookie-jar.ts';
import { API, REDIRECT, createUser, createWebApp } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { AccountBrowser, createAgent, signInToAccount, walkSignIn } from '../helpers/account-pages.ts';

let t: TestServer;
let agent: string;
let ceilingAgent: string;
let disabledAgent: string;
let webApp: string;
let alice: AccountBrowser;
let eve: AccountBrowser;

const consentPath = (q: Record<string, string> | string): string => `/account/delegations/new?${typeof q === 'string' ? q : new URLSearchParams(q).toString()}`;
const stored = async (email: string): Promise<{ id: string; scopes: string[] }[]> =>
  (await t.cliJson<{ delegations: { id: string; scopes: string[] }[] }>('delegation', 'standing', 'list', '--user', email)).delegations;

/** An error page: HTML with govauth's headers, our sentence, no stack trace. */
async function expectErrorPage(res: Response, status: number, sentence: string | RegExp): Promise<void> {
  const html = await res.text();
  expect(res.status, html.slice(0, 600)).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(html).toContain('role="alert"');
  if (typeof sentence === 'string') expect(html).toContain(sentence);
  else expect(html).toMatch(sentence);
  expect(html).not.toMatch(/\bat \S+\.(ts|js):\d+|TypeError|PrismaClient/);
}

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  await t.cliJson('scope', 'create', 'reports.read', '--description', 'Read reports');
  await createUser(t, 'alice@example.com', ['data-scientist']);
  await createUser(t, 'eve@example.com', ['data-scientist']);
  agent = await createAgent(t, 'Model Studio Agent');
  ceilingAgent = await createAgent(t, 'Prediction Agent', { scopeCeiling: ['ai.prediction.run'] });
  disabledAgent = await createAgent(t, 'Retired Agent');
  await t.cliJson('client', 'disable', disabledAgent);
  webApp = (await createWebApp(t)).client_id;
  await t.server.policy.sync();
  alice = await signInToAccount(t, 'alice@example.com');
  eve = await signInToAccount(t, 'eve@example.com');
});
afterAll(() => t?.stop());

describe('GET /account/delegations/new with a request that cannot be shown', () => {
  const ok = () => ({ client_id: agent, resource: API, scope: 'ai.prediction.run' });
  const cases: [string, () => Record<string, string> | string, string][] = [
    ['no parameters', () => ({}), 'client_id is missing'],
    ['no resource', () => ({ client_id: agent, scope: 'ai.prediction.run' }), 'resource is missing'],
    ['no scope', () => ({ client_id: agent, resource: API }), 'scope is missing'],
    ['an empty scope', () => ({ ...ok(), scope: '   ' }), 'scope is empty'],
    ['an unknown client_id', () => ({ ...ok(), client_id: 'cl_nobody' }), 'There is no agent registered as &quot;cl_nobody&quot;.'],
    ['markup in client_id', () => ({ ...ok(), client_id: '<script>alert(1)</script>' }), 'client_id is not a valid client identifier.'],
    ['a client that is not an agent', () => ({ ...ok(), client_id: webApp }), 'Model Studio is not an agent: it is not registered to act for people.'],
    ['the account pages’ own client', () => ({ ...ok(), client_id: 'govauth-account' }), 'There is no agent registered as &quot;govauth-account&quot;.'],
    ['a disabled agent', () => ({ ...ok(), client_id: disabledAgent }), 'Retired Agent has been switched off by an administrator'],
    ['an unknown resource', () => ({ ...ok(), resource: 'https://nowhere.example' }), 'There is no resource &quot;https://nowhere.example&quot;.'],
    ['a resource that is not a URI', () => ({ ...ok(), resource: 'not a uri' }), 'must be an absolute URI without a fragment'],
    ['the admin API: never delegable', () => ({ ...ok(), resource: 'urn:govauth:admin', scope: 'govauth.audit.read' }), 'No one can act for you on govauth admin API: it is where govauth itself is administered.'],
    ['a scope with control characters', () => ({ ...ok(), scope: 'ai.prediction.run\u0000' }), 'invalid scope name'],
    ['an OpenID Connect scope', () => ({ ...ok(), scope: 'openid' }), 'scope name openid is reserved by OpenID Connect'],
    ['too many scopes', () => ({ ...ok(), scope: Array.from({ length: 51 }, (_, i) => `s${i}`).join(' ') }), 'at most 50 permissions'],
    ['client_id twice', () => `client_id=${agent}&client_id=${agent}&resource=${encodeURIComponent(API)}&scope=ai.prediction.run`, 'client_id was given more than once.'],
    ['expires_in 0', () => ({ ...ok(), expires_in: '0' }), 'expires_in must be a whole number of seconds from 1 to 7776000 (90 days).'],
    ['a negative expires_in', () => ({ ...ok(), expires_in: '-60' }), 'expires_in must be a whole number'],
    ['a fractional expires_in', () => ({ ...ok(), expires_in: '1.5' }), 'expires_in must be a whole number'],
    ['a word for expires_in', () => ({ ...ok(), expires_in: 'forever' }), 'expires_in must be a whole number'],
    ['expires_in over 90 days', () => ({ ...ok(), expires_in: '7776001' }), 'expires_in must be a whole number'],
    ['expires_in twice', () => `${new URLSearchParams(ok()).toString()}&expires_in=60&expires_in=60`, 'expires_in must be a whole number'],
  ];
  for (const [name, query, sentence] of cases) {
    it(`answers 400 for ${name}`, async () => {
      await expectErrorPage(await alice.get(consentPath(query())), 400, sentence);
    });
  }

  it('checks the request before asking anyone to sign in', async () => {
    await expectErrorPage(await new AccountBrowser(t.url).get(consentPath({ client_id: agent })), 400, 'resource is missing');
  });
});

describe('scopes that cannot be delegated', () => {
  const notices: [string, string, string][] = [
    ['a scope the resource does not offer', 'reports.read', 'Not included because this resource does not offer it: reports.read.'],
    ['a scope the person does not hold', 'ai.deploy.manage', 'Not included because your roles do not grant it: ai.deploy.manage.'],
    ['a scope that does not exist', 'ai.nothing', 'Not included because no such permission exists: ai.nothing.'],
  ];
  for (const [name, scope, notice] of notices) {
    it(`lists ${name} with the reason and offers only Deny when nothing is left`, async () => {
      const res = await alice.get(consentPath({ client_id: agent, resource: API, scope }));
      const html = await res.text();
      expect(res.status).toBe(200);
      expect(html).toContain(notice);
      expect(html).toContain('nothing to allow');
      expect(html).not.toContain('value="allow"');
    });
  }

  it('applies the agent’s scope ceiling', async () => {
    const html = await (await alice.get(consentPath({ client_id: ceilingAgent, resource: API, scope: 'ai.prediction.run ai.training.read' }))).text();
    expect(html).toContain('Not included because this agent may not hold it: ai.training.read.');
    expect(html).toContain('with <strong>ai.prediction.run</strong>');
    expect(field(html, 'scope')).toBe('ai.prediction.run');
  });
});

describe('POST /account/delegations with a forged or stale form', () => {
  let csrf: string;
  beforeAll(async () => {
    csrf = await alice.csrf(consentPath({ client_id: agent, resource: API, scope: 'ai.prediction.run' }));
  });
  const allow = (extra: Record<string, string> = {}) => ({ csrf, decision: 'allow', client_id: agent, resource: API, scope: 'ai.prediction.run', expires_at: '', ...extra });

  const cases: [string, () => Record<string, string>, number, string][] = [
    ['no form token', () => { const { csrf: _, ...rest } = allow(); return rest; }, 403, 'This form is not valid'],
    ['a wrong form token', () => allow({ csrf: 'A'.repeat(43) }), 403, 'This form is not valid'],
    ['a scope the person does not hold', () => allow({ scope: 'ai.deploy.manage' }), 400, 'These permissions cannot be delegated now: ai.deploy.manage.'],
    ['a scope the resource does not offer', () => allow({ scope: 'ai.prediction.run reports.read' }), 400, 'These permissions cannot be delegated now: reports.read.'],
    ['a scope beyond the agent’s ceiling', () => allow({ client_id: ceilingAgent, scope: 'ai.training.read' }), 400, 'These permissions cannot be delegated now: ai.training.read.'],
    ['a client that is not an agent', () => allow({ client_id: webApp }), 400, 'is not an agent'],
    ['an unknown resource', () => allow({ resource: 'https://nowhere.example' }), 400, 'There is no resource'],
    ['an end in the past', () => allow({ expires_at: String(Date.now() - 1000) }), 400, 'The end of a delegation must be in the future.'],
    ['an end beyond 90 days', () => allow({ expires_at: String(Date.now() + 91 * 86_400_000) }), 400, 'A delegation can be given for at most 90 days at a time.'],
    ['an end that is not a time', () => allow({ expires_at: 'tomorrow' }), 400, 'expires_at is not a valid time.'],
    ['no decision', () => { const { decision: _, ...rest } = allow(); return rest; }, 400, 'Choose Allow or Deny.'],
    ['another decision', () => allow({ decision: 'maybe' }), 400, 'Choose Allow or Deny.'],
  ];
  for (const [name, form, status, sentence] of cases) {
    it(`refuses ${name} (${status}) and stores nothing`, async () => {
      await expectErrorPage(await alice.post('/account/delegations', form()), status, sentence);
      expect(await stored('alice@example.com')).toEqual([]);
    });
  }

  it('refuses the form token of another person’s sign-in', async () => {
    const evesToken = await eve.csrf(consentPath({ client_id: agent, resource: API, scope: 'ai.prediction.run' }));
    await expectErrorPage(await alice.post('/account/delegations', allow({ csrf: evesToken })), 403, 'This form is not valid');
    expect(await stored('alice@example.com')).toEqual([]);
  });

  it('refuses a field sent twice, a body that is not a form, and a browser that is not signed in', async () => {
    const twice = await fetch(`${t.url}/account/delegations`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: alice.jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: `${new URLSearchParams(allow()).toString()}&scope=ai.training.read`,
    });
    await expectErrorPage(twice, 400, 'field scope was sent more than once');
    await expectErrorPage(await alice.post('/account/delegations', {}, { 'content-type': 'application/json' }), 415, 'expected a form');
    await expectErrorPage(await new AccountBrowser(t.url).post('/account/delegations', allow()), 401, 'Your sign-in has ended, so nothing was changed.');
    expect(await stored('alice@example.com')).toEqual([]);
  });
});

describe('withdrawing', () => {
  it('refuses to withdraw another person’s delegation, or one that does not exist, and keeps it', async () => {
    const form = await alice.get(consentPath({ client_id: agent, resource: API, scope: 'ai.prediction.run' }));
    const html = await form.text();
    expect((await alice.post('/account/delegations', { csrf: field(html, 'csrf') ?? '', decision: 'allow', client_id: agent, resource: API, scope: 'ai.prediction.run', expires_at: '' })).status).toBe(303);
    const [mine] = await stored('alice@example.com');
    const evesToken = await eve.csrf(consentPath({ client_id: agent, resource: API, scope: 'ai.prediction.run' }));
    await expectErrorPage(await eve.post(`/account/delegations/${mine?.id ?? ''}/withdraw`, { csrf: evesToken }), 404, 'You have no standing delegation with this id');
    await expectErrorPage(await eve.post('/account/delegations/sd_doesnotexist/withdraw', { csrf: evesToken }), 404, 'You have no standing delegation with this id');
    await expectErrorPage(await alice.post(`/account/delegations/${mine?.id ?? ''}/withdraw`, {}), 403, 'This form is not valid');
    await expectErrorPage(await alice.post(`/account/delegations/${mine?.id ?? ''}/withdraw`, { csrf: evesToken }), 403, 'This form is not valid');
    expect((await stored('alice@example.com')).map((d) => d.id)).toEqual([mine?.id]);
    const refused = (await t.cliJson<{ events: { action: string }[] }>('audit', 'tail', '--action', 'delegation.withdrawn')).events;
    expect(refused).toEqual([]);
  });
});

describe('the way back from signing in', () => {
  /** A browser that started a sign-in: its cookie and the state it was given. */
  async function started(): Promise<{ browser: AccountBrowser; state: string }> {
    const browser = new AccountBrowser(t.url);
    const res = await browser.get('/account/delegations');
    return { browser, state: new URL(res.headers.get('location') ?? '').searchParams.get('state') ?? '' };
  }

  it('refuses an answer this browser did not ask for', async () => {
    await expectErrorPage(await new AccountBrowser(t.url).get(`/account/signed-in?state=abc&iss=${encodeURIComponent(t.issuer)}`), 400, 'This sign-in was not started in this browser');
    const { browser } = await started();
    await expectErrorPage(await browser.get(`/account/signed-in?state=forged&iss=${encodeURIComponent(t.issuer)}`), 400, 'This sign-in was not started in this browser');
  });

  it('refuses an answer from another issuer, a repeated state, and takes each state once', async () => {
    const a = await started();
    await expectErrorPage(await a.browser.get(`/account/signed-in?state=${a.state}&iss=${encodeURIComponent('https://evil.example')}`), 400, 'did not come from this server');
    // The refused answer used the pending sign-in up: the right answer after it is refused too.
    await expectErrorPage(await a.browser.get(`/account/signed-in?state=${a.state}&iss=${encodeURIComponent(t.issuer)}`), 400, 'This sign-in was not started in this browser');
    const b = await started();
    await expectErrorPage(await b.browser.get(`/account/signed-in?state=${b.state}&state=${b.state}&iss=${encodeURIComponent(t.issuer)}`), 400, 'This sign-in was not started in this browser');
  });

  it('says a cancelled sign-in changed nothing, with a way to try again', async () => {
    const { browser, state } = await started();
    const res = await browser.get(`/account/signed-in?error=access_denied&state=${state}&iss=${encodeURIComponent(t.issuer)}`);
    const html = await res.clone().text();
    await expectErrorPage(res, 403, 'You did not sign in, so nothing was changed.');
    expect(html).toContain('href="/account/delegations"');
  });

  it('returns only to an account page of this server', async () => {
    for (const target of ['//evil.example/account/x', 'https://evil.example/account/', '/account/../admin/v1/users', '/\\evil.example']) {
      const { returnedTo } = await walkSignIn(t, `/account/sign-in?return=${encodeURIComponent(target)}`, 'alice@example.com');
      expect(returnedTo, target).toBe('/account/delegations');
    }
  });

  it('answers unknown account pages with the error page', async () => {
    await expectErrorPage(await alice.get('/account/nothing-here'), 404, 'There is no such page.');
    await expectErrorPage(await alice.get('/account/delegations/sd_x/withdraw'), 404, 'There is no such page.');
    // /account itself is the overview (factor-pages.ts).
    const overview = await alice.get('/account');
    expect(overview.status).toBe(200);
    expect(await overview.text()).toContain('<h1 id="page-title">Your account</h1>');
  });
});

describe('the account pages’ own client', () => {
  it('gets no token at the token endpoint', async () => {
    const requests: Record<string, string>[] = [
      { grant_type: 'client_credentials', client_id: 'govauth-account' },
      { grant_type: 'authorization_code', client_id: 'govauth-account', code: 'x', redirect_uri: `${t.issuer}/account/signed-in`, code_verifier: 'v'.repeat(43) },
      { grant_type: 'refresh_token', client_id: 'govauth-account', refresh_token: 'x' },
    ];
    for (const body of requests) {
      const res = await fetch(`${t.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
      const json = (await res.json()) as { error?: string; access_token?: string };
      expect(res.status, JSON.stringify(json)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(json.access_token).toBeUndefined();
      expect(['unauthorized_client', 'invalid_client', 'invalid_grant']).toContain(json.error);
    }
  });

  it('cannot ask for a code, nor send the answer anywhere but the account pages', async () => {
    const base = { client_id: 'govauth-account', scope: 'openid', state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' };
    const code = await fetch(`${t.url}/auth?${new URLSearchParams({ ...base, response_type: 'code', redirect_uri: `${t.issuer}/account/signed-in` }).toString()}`, { redirect: 'manual' });
    expect(code.status).toBe(303);
    const answer = new URL(code.headers.get('location') ?? '');
    expect(Object.fromEntries(answer.searchParams)).toMatchObject({ error: 'invalid_request', error_description: 'requested response_type is not allowed for this client' });
    expect(answer.searchParams.has('code')).toBe(false);
    const elsewhere = await fetch(`${t.url}/auth?${new URLSearchParams({ ...base, response_type: 'none', redirect_uri: 'https://evil.example/cb' }).toString()}`, { redirect: 'manual' });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.headers.get('location')).toBeNull();
  });

  it('is not in the catalogue, and catalogue clients cannot use response_type=none', async () => {
    const shown = await t.cli('client', 'show', 'govauth-account');
    expect(shown.code).toBe(1);
    expect(shown.stderr).toContain('no client govauth-account');
    expect((await t.cli('client', 'disable', 'govauth-account')).code).toBe(1);
    expect((await t.cliJson<{ clients: { client_id: string }[] }>('client', 'list')).clients.map((c) => c.client_id)).not.toContain('govauth-account');
    const res = await fetch(`${t.url}/auth?${new URLSearchParams({ client_id: webApp, response_type: 'none', scope: 'openid', redirect_uri: REDIRECT, state: 's' }).toString()}`, { redirect: 'manual' });
    const answer = new URL(res.headers.get('location') ?? '');
    expect(`${answer.origin}${answer.pathname}`).toBe(REDIRECT);
    expect(Object.fromEntries(answer.searchParams)).toMatchObject({ error: 'invalid_request', error_description: 'requested response_type is not allowed for this client' });
  });
});
