// The delegation consent page and a person's delegations page over plain HTTP, against a real
// server and database: signing in through the account pages' own client, giving, replacing and
// withdrawing a standing delegation, the step-up for a high-sensitivity scope, what is stored,
// what the snapshot holds, and what the audit trail records. Hostile input is
// test/security/delegation-pages-input.test.ts; the browser's view is test/e2e/delegation-consent.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StandingDelegationDef } from '../../src/governance/delegation.ts';
import { field } from '../helpers/cookie-jar.ts';
import { API, createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { AccountBrowser, createAgent, signInToAccount, walkSignIn } from '../helpers/account-pages.ts';

let t: TestServer;
let agent: string;
let aliceId: string;
let bobSecret: string;
let alice: AccountBrowser;

interface Listing {
  id: string;
  delegations: { id: string; client_id: string; audience: string; scopes: string[]; expires_at: string | null; granted_at: string }[];
}
interface AuditEvent {
  action: string;
  actor_type: string;
  actor: string | null;
  subject: string | null;
  client_id: string | null;
  request_id: string | null;
  detail: { before: unknown; after: { scopes?: string[] } | null; replaced?: boolean; withdrawn_by?: string };
}

const consentPath = (q: Record<string, string>): string => `/account/delegations/new?${new URLSearchParams(q).toString()}`;
const listOf = (email: string): Promise<Listing> => t.cliJson<Listing>('delegation', 'standing', 'list', '--user', email);
const delegationAudit = async (): Promise<AuditEvent[]> => (await t.cliJson<{ events: AuditEvent[] }>('audit', 'tail', '--action', 'delegation.*', '--limit', '50')).events;

/** Opens the consent page and answers it; returns the answer's response. */
async function answer(browser: AccountBrowser, q: Record<string, string>, decision: 'allow' | 'deny'): Promise<Response> {
  const page = await browser.get(consentPath(q));
  const html = await page.text();
  expect(page.status, html).toBe(200);
  const fields = Object.fromEntries(['csrf', 'client_id', 'resource', 'scope', 'expires_at'].map((n) => [n, field(html, n) ?? '']));
  return browser.post('/account/delegations', { ...fields, decision });
}

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  aliceId = await createUser(t, 'alice@example.com', ['data-scientist']);
  await createUser(t, 'bob@example.com', ['admin']);
  bobSecret = (await t.cliJson<{ secret: string }>('user', 'mfa', 'enroll', 'bob@example.com')).secret;
  agent = await createAgent(t, 'Model Studio Agent');
});
afterAll(() => t?.stop());

describe('signing in to the account pages', () => {
  it('sends a person who is not signed in through govauth sign-in and back to the page they opened', async () => {
    const start = consentPath({ client_id: agent, resource: API, scope: 'ai.prediction.run' });
    const first = await new AccountBrowser(t.url).get(start);
    expect(first.status).toBe(303);
    const auth = new URL(first.headers.get('location') ?? '');
    expect(`${auth.origin}${auth.pathname}`).toBe(`${t.issuer}/auth`);
    expect(Object.fromEntries(auth.searchParams)).toMatchObject({ client_id: 'govauth-account', response_type: 'none', scope: 'openid', redirect_uri: `${t.issuer}/account/signed-in` });
    expect(auth.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
    const cookie = first.headers.getSetCookie().find((c) => c.startsWith('govauth.account_return='));
    expect(cookie).toMatch(/path=\/account/i);
    expect(cookie).toMatch(/httponly/i);
    expect(cookie).toMatch(/samesite=lax/i);

    const { browser, returnedTo } = await walkSignIn(t, start, 'alice@example.com');
    expect(returnedTo).toBe(start);
    alice = browser;
    // No consent screen for govauth's own pages, and nothing issued: the callback carried no code.
    expect((await alice.get(start)).status).toBe(200);
  });
});

describe('giving a standing delegation', () => {
  it('shows the sentence, stores exactly what it showed, and the snapshot and audit trail have it', async () => {
    const page = await alice.get(consentPath({ client_id: agent, resource: API, scope: 'ai.prediction.run ai.training.read' }));
    const html = await page.text();
    expect(html).toContain('Allow <strong>Model Studio Agent</strong> to act for you on <strong>Example model API</strong> with <strong>ai.prediction.run</strong> (Run interactive predictions against deployed models) and <strong>ai.training.read</strong> (Read training datasets and training-run metadata), until you withdraw it.');
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self'");

    const res = await answer(alice, { client_id: agent, resource: API, scope: 'ai.prediction.run ai.training.read' }, 'allow');
    expect(res.status).toBe(303);
    const location = res.headers.get('location') ?? '';
    expect(location).toMatch(/^\/account\/delegations\?granted=sd_/);
    const confirmation = await (await alice.get(location)).text();
    expect(confirmation).toContain('Saved: Model Studio Agent may act for you on Example model API until you withdraw it.');

    const { delegations } = await listOf('alice@example.com');
    expect(delegations).toHaveLength(1);
    const stored = delegations[0];
    expect(stored).toMatchObject({ client_id: agent, audience: API, scopes: ['ai.prediction.run', 'ai.training.read'], expires_at: null, max_depth: 2 });
    expect(location).toBe(`/account/delegations?granted=${stored?.id ?? ''}`);

    // The server answered only once its own snapshot had it.
    const def = t.server.policy.snapshot().delegations.get(stored?.id ?? '') as StandingDelegationDef | undefined;
    expect(def).toMatchObject({ kind: 'standing', userId: aliceId, clientId: agent, audience: API, expiresAt: null });
    expect([...(def?.scopes ?? [])].sort()).toEqual(['ai.prediction.run', 'ai.training.read']);

    const granted = (await delegationAudit()).filter((e) => e.action === 'delegation.granted');
    expect(granted.at(-1)).toMatchObject({ actor_type: 'user', actor: aliceId, subject: stored?.id, client_id: agent, detail: { before: null, replaced: false, after: { scopes: ['ai.prediction.run', 'ai.training.read'] } } });
    expect(granted.at(-1)?.request_id).toBeTruthy();
  });

  it('replaces the delegation to the same agent for the same resource, keeping its id, and says so first', async () => {
    const [before] = (await listOf('alice@example.com')).delegations;
    const q = { client_id: agent, resource: API, scope: 'ai.training.analyze', expires_in: '3600' };
    const html = await (await alice.get(consentPath(q))).text();
    expect(html).toMatch(/This replaces what you allowed this agent on .* \(ai\.prediction\.run, ai\.training\.read, until you withdraw it\)\./);
    const shown = /until (\d{1,2} \w+ \d{4} at \d{2}:\d{2} UTC)\.<\/p>/.exec(html)?.[1];
    expect(shown).toBeTruthy();

    const res = await answer(alice, q, 'allow');
    expect(res.status).toBe(303);
    const { delegations } = await listOf('alice@example.com');
    expect(delegations).toHaveLength(1);
    expect(delegations[0]).toMatchObject({ id: before?.id, scopes: ['ai.training.analyze'] });
    const ends = Date.parse(delegations[0]?.expires_at ?? '');
    expect(Math.abs(ends - (Date.now() + 3600_000))).toBeLessThan(60_000);

    const replaced = (await delegationAudit()).at(-1);
    expect(replaced).toMatchObject({ action: 'delegation.granted', subject: before?.id, detail: { replaced: true, before: { scopes: ['ai.prediction.run', 'ai.training.read'] }, after: { scopes: ['ai.training.analyze'] } } });
  });

  it('leaves nothing when the person denies', async () => {
    const other = await createAgent(t, 'Report Writer');
    const recorded = (await delegationAudit()).length;
    const res = await answer(alice, { client_id: other, resource: API, scope: 'ai.prediction.run' }, 'deny');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account/delegations?result=denied');
    expect(await (await alice.get('/account/delegations?result=denied')).text()).toContain('You did not allow it: nothing was changed.');
    expect((await t.cliJson<Listing>('delegation', 'standing', 'list', '--agent', other)).delegations).toEqual([]);
    expect((await delegationAudit()).length).toBe(recorded);
  });
});

describe('a high-sensitivity scope', () => {
  it('needs a recent second factor: the page says so, links to the step-up, and allows it after', async () => {
    const start = consentPath({ client_id: agent, resource: API, scope: 'ai.deploy.manage ai.usage.log.read' });
    // Signed in with the password only (the step-up is asked only when it is needed).
    const { browser: bob, returnedTo } = await walkSignIn(t, start, 'bob@example.com', { totpSecret: bobSecret });
    expect(returnedTo).toBe(start);
    const before = await (await bob.get(start)).text();
    expect(before).toContain('Not included because it needs a recent two-step verification: ai.deploy.manage. Sign in again to use it.');
    expect(before).not.toMatch(/<strong>ai\.deploy\.manage<\/strong>/);
    const stepUp = /<a href="([^"]+)">Confirm it is you with your authenticator app<\/a>/.exec(before)?.[1]?.replaceAll('&amp;', '&') ?? '';
    expect(stepUp).toMatch(/^\/account\/sign-in\?mfa=1&return=/);

    const auth = await bob.get(stepUp);
    expect(new URL(auth.headers.get('location') ?? '').searchParams.get('acr_values')).toBe('urn:govauth:acr:mfa');
    const after = await walkSignIn(t, stepUp, 'bob@example.com', { browser: bob, totpSecret: bobSecret });
    expect(after.returnedTo).toBe(start);
    const html = await (await bob.get(start)).text();
    expect(html).toContain('with <strong>ai.deploy.manage</strong> (Deploy, roll back and retire models in production) and <strong>ai.usage.log.read</strong>');
    expect(html).toContain('high sensitivity');
    expect((await answer(bob, { client_id: agent, resource: API, scope: 'ai.deploy.manage ai.usage.log.read' }, 'allow')).status).toBe(303);
    expect((await listOf('bob@example.com')).delegations[0]?.scopes).toEqual(['ai.deploy.manage', 'ai.usage.log.read']);
  });
});

describe('withdrawing', () => {
  it('ends the delegation at once: gone from the database and the snapshot, and recorded', async () => {
    const [mine] = (await listOf('alice@example.com')).delegations;
    const html = await (await alice.get('/account/delegations')).text();
    expect(html).toContain(`action="/account/delegations/${mine?.id ?? ''}/withdraw"`);
    const res = await alice.post(`/account/delegations/${mine?.id ?? ''}/withdraw`, { csrf: field(html, 'csrf') ?? '' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account/delegations?result=withdrawn');
    expect(await (await alice.get('/account/delegations?result=withdrawn')).text()).toContain('You have not let any agent act for you.');
    expect((await listOf('alice@example.com')).delegations).toEqual([]);
    expect(t.server.policy.snapshot().delegations.has(mine?.id ?? '')).toBe(false);
    expect((await delegationAudit()).at(-1)).toMatchObject({ action: 'delegation.withdrawn', actor_type: 'user', actor: aliceId, subject: mine?.id, client_id: agent, detail: { withdrawn_by: 'owner', after: null } });
  });
});

describe('people who cannot use the pages', () => {
  it('tells a disabled person their account is disabled, on every page', async () => {
    await createUser(t, 'carol@example.com', ['end-user']);
    const carol = await signInToAccount(t, 'carol@example.com');
    const csrf = await carol.csrf(consentPath({ client_id: agent, resource: API, scope: 'ai.prediction.run' }));
    await t.cliJson('user', 'disable', 'carol@example.com');
    await t.server.policy.sync();
    for (const res of [
      await carol.get('/account/delegations'),
      await carol.get(consentPath({ client_id: agent, resource: API, scope: 'ai.prediction.run' })),
      await carol.post('/account/delegations', { csrf, decision: 'allow', client_id: agent, resource: API, scope: 'ai.prediction.run' }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(await res.text()).toContain('Your account is disabled.');
    }
    expect((await listOf('carol@example.com')).delegations).toEqual([]);
  });

  // Last: it moves the server's clock past every sign-in.
  it('asks for a new sign-in once the sign-in has expired, and changes nothing on a form sent after', async () => {
    const csrf = await alice.csrf(consentPath({ client_id: agent, resource: API, scope: 'ai.prediction.run' }));
    t.advance(8 * 86_400_000); // past GOVAUTH_SESSION_MAX_AGE (7 days)
    const page = await alice.get('/account/delegations');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toMatch(/\/auth\?client_id=govauth-account&/);
    const post = await alice.post('/account/delegations', { csrf, decision: 'allow', client_id: agent, resource: API, scope: 'ai.prediction.run' });
    expect(post.status).toBe(401);
    expect(await post.text()).toContain('Your sign-in has ended, so nothing was changed.');
    expect((await listOf('alice@example.com')).delegations).toEqual([]);
  });
});
