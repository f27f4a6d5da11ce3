// Token Status Lists (draft-ietf-oauth-status-list-20) on a real server: every kind of access
// token carries a status claim, the list at its uri is a Status List Token a resource server
// verifies with the JWKS, and its bits say exactly what introspection says, token by token,
// after every kind of revocation and policy change.
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE, allowDelegation, createAgent } from '../helpers/agents.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { basic, type ClientCreds, decodeJwt, introspectionActive as isActive, tokenRequest } from '../helpers/oauth.ts';
import { API, createResourceServer, createUser, createWebApp, discover } from '../helpers/people.ts';
import { fetchList, statusBit, statusOf } from '../helpers/status-list.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let t: TestServer;
let rs: ClientCreds;
let app: oidc.Configuration;
let agent: oidc.Configuration;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer({ db, env: { GOVAUTH_STATUS_LIST_TTL: '1' } });
  await t.cliJson('init', '--demo');
  await t.cliJson('role', 'create', 'coding-agent', '--description', 'AI coding assistants', '--scopes', 'ai.prediction.run');
  rs = await createResourceServer(t);
  app = await discover(t, await createWebApp(t));
  for (const email of ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.com']) await createUser(t, email, ['data-scientist']);
  const a = await createAgent(t, 'Agent', ['coding-agent']);
  agent = await discover(t, { client_id: a.client_id, client_secret: a.client_secret });
  await allowDelegation(t, { agentRole: 'coding-agent', forRole: 'data-scientist', resource: API });
});
afterAll(async () => {
  await t?.stop();
  await db?.drop();
});

const bot = (name: string, roles = 'end-user') => t.cliJson<ClientCreds>('client', 'create', '--name', name, '--grant', 'client_credentials', '--roles', roles);
async function botToken(creds: ClientCreds): Promise<string> {
  const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: creds });
  expect(res.status).toBe(200);
  return String(res.body.access_token);
}
const signIn = (email: string) => headlessSignIn(app, email, 'openid offline_access ai.prediction.run ai.training.read', { extra: { prompt: 'consent' } });
const exchange = async (subject: string) =>
  (await oidc.genericGrantRequest(agent, TOKEN_EXCHANGE, { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: API })).access_token;

const introspectionActive = (token: string): Promise<boolean> => isActive(t.url, rs, token);

describe('the status claim', () => {
  it('is on client_credentials, code, refresh and exchanged tokens, each with its own index', async () => {
    const cc = await botToken(await bot('claim-bot'));
    const signedIn = await signIn('alice@example.com');
    const refreshed = await oidc.refreshTokenGrant(app, signedIn.refresh_token ?? '');
    const exchanged = await exchange(signedIn.access_token);
    const tokens = [cc, signedIn.access_token, refreshed.access_token, exchanged];
    const refs = tokens.map(statusOf);
    for (const ref of refs) {
      expect(ref.uri).toMatch(new RegExp(`^${t.issuer}/statuslists/\\d+$`));
      expect(Number.isSafeInteger(ref.idx) && ref.idx >= 0).toBe(true);
    }
    for (const token of tokens) expect(await statusBit(t.issuer, token)).toBe(0);
    expect(new Set(refs.map((r) => `${r.uri}#${r.idx}`)).size).toBe(4);
    // Each audit record names the token as signed: iat, lifetime and its place in the lists.
    for (const token of tokens) {
      const claims = decodeJwt(token).payload;
      const records = await t.server.db.prisma.auditEvent.findMany({ where: { action: { in: ['token.issued', 'token.refreshed', 'token.exchanged'] }, detail: { contains: String(claims.jti) } } });
      const detail = records.map((r) => JSON.parse(r.detail) as Record<string, unknown>).find((d) => d.jti === claims.jti) ?? {};
      const { idx, uri } = statusOf(token);
      expect(detail).toMatchObject({ jti: claims.jti, iat: claims.iat, lifetime: Number(claims.exp) - Number(claims.iat), status_idx: idx, status_list: Number(uri.split('/').at(-1)) });
      if (claims.source_iat !== undefined) expect(detail.source_iat).toBe(claims.source_iat);
    }
  });
});

describe('the Status List Token', () => {
  it('is a JWT typed statuslist+jwt, signed like access tokens, naming its uri, with ttl and exp', async () => {
    const token = await botToken(await bot('list-bot'));
    const { uri, idx } = statusOf(token);
    const list = await fetchList(t.issuer, uri);
    const jwks = (await (await fetch(`${t.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
    expect(list.header).toMatchObject({ typ: 'statuslist+jwt', alg: 'RS256' });
    expect(jwks.keys.map((k) => k.kid)).toContain(list.header.kid);
    expect(list.header.kid).toBe(decodeJwt(token).header.kid);
    expect(list.payload).toMatchObject({ sub: uri, iss: t.issuer, ttl: 1, status_list: { bits: 1 } });
    expect(Number(list.payload.exp)).toBeGreaterThan(Number(list.payload.iat));
    expect(Math.abs(Number(list.payload.iat) - Date.now() / 1000)).toBeLessThan(5);
    expect(list.size).toBe(2 ** 17);
    expect(list.bit(idx)).toBe(0);
    expect(list.response.headers.get('content-type')).toBe('application/statuslist+jwt');
    expect(list.response.headers.get('access-control-allow-origin')).toBe('*');
    expect(list.response.headers.get('cache-control')).toMatch(/^public, max-age=[01]$/);
  });

  it('answers HEAD, revalidation, the wrong method, media type and list as a resource server expects', async () => {
    const { uri } = statusOf(await botToken(await bot('http-bot')));
    const head = await fetch(uri, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const etag = head.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect((await fetch(uri, { headers: { 'if-none-match': etag } })).status).toBeOneOf([200, 304]);
    const post = await fetch(uri, { method: 'POST' });
    expect(post.status).toBe(400);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(uri, { headers: { accept: 'application/statuslist+cwt' } })).status).toBe(406);
    expect((await fetch(uri, { headers: { accept: '*/*' } })).status).toBe(200);
    for (const path of ['/statuslists/9999999', '/statuslists/abc', '/statuslists/01', '/statuslists/-1', '/statuslists/1/2', `/statuslists/${'9'.repeat(40)}`]) {
      const res = await fetch(`${t.issuer}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({ error: 'not_found' });
    }
  });

  it('is listed by the aggregation endpoint that discovery names (draft §9)', async () => {
    const { uri } = statusOf(await botToken(await bot('aggregation-bot')));
    const meta = (await (await fetch(`${t.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(meta.status_list_aggregation_endpoint).toBe(`${t.issuer}/statuslists`);
    const res = await fetch(`${t.issuer}/statuslists`);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await res.json()) as { status_lists: string[] }).status_lists).toContain(uri);
  });
});

describe('the list and introspection agree', () => {
  it('on every token, after each kind of revocation and policy change', async () => {
    const tokens: { name: string; token: string }[] = [];
    const keep = (name: string, token: string) => void tokens.push({ name, token });
    // Bots: one kept live, one revoked by itself (RFC 7009), one disabled, one revoked by client,
    // one whose role loses the scope its token carries.
    const [live, selfRevoked, disabled, revokedClient] = await Promise.all(['live', 'self', 'disabled', 'revoked'].map((n) => bot(`agree-${n}`)));
    for (const [name, creds] of [['live bot', live], ['self-revoked bot', selfRevoked], ['disabled bot', disabled], ['revoked bot', revokedClient]] as const) keep(name, await botToken(creds!));
    const selfRevokedToken = tokens[1]!.token;
    await t.cliJson('role', 'create', 'batch-runner', '--scopes', 'ai.predictions.execute');
    const shrinking = await bot('agree-shrinking', 'batch-runner');
    keep('bot whose role lost the scope', await botToken(shrinking));
    // People: alice stays, bob is revoked, carol disabled, dave signs out of a grant (refresh
    // token revoked), erin's token is exchanged by an agent whose delegation is withdrawn.
    const alice = await signIn('alice@example.com');
    keep('alice', alice.access_token);
    keep('alice exchanged', await exchange(alice.access_token));
    keep('bob', (await signIn('bob@example.com')).access_token);
    keep('carol', (await signIn('carol@example.com')).access_token);
    const dave = await signIn('dave@example.com');
    keep('dave', dave.access_token);
    const erin = await signIn('erin@example.com');
    keep('erin exchanged', await exchange(erin.access_token));
    await t.server.statusLists.settled();
    for (const { name, token } of tokens) expect(await statusBit(t.issuer, token), name).toBe(0);

    const revokeForm = (creds: ClientCreds, token: string) =>
      fetch(`${t.url}/token/revocation`, { method: 'POST', headers: { authorization: basic(creds), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
    expect((await revokeForm(selfRevoked!, selfRevokedToken)).status).toBe(200);
    await t.cliJson('client', 'disable', disabled!.client_id);
    await t.cliJson('revoke', '--client', revokedClient!.client_id);
    await t.cliJson('role', 'update', 'batch-runner', '--scopes', 'ai.prediction.run');
    await t.cliJson('revoke', '--user', 'bob@example.com');
    await t.cliJson('user', 'disable', 'carol@example.com');
    await oidc.tokenRevocation(app, dave.refresh_token ?? '');
    await t.server.db.prisma.standingDelegation.deleteMany({});
    await t.server.db.prisma.delegationPolicy.deleteMany({});
    await t.server.db.prisma.change.create({ data: { kind: 'delegation', key: 'all' } });
    await t.server.policy.sync();
    await t.server.statusLists.settled();

    const verdicts: Record<string, { bit: number; active: boolean }> = {};
    for (const { name, token } of tokens) verdicts[name] = { bit: await statusBit(t.issuer, token), active: await introspectionActive(token) };
    for (const [name, v] of Object.entries(verdicts)) expect(v.bit, `${name}: bit ${v.bit}, introspection active ${v.active}`).toBe(v.active ? 0 : 1);
    expect(Object.values(verdicts).filter((v) => v.active).length).toBe(2); // the live bot and alice's own token
    expect(verdicts['alice exchanged']?.active).toBe(false); // the delegation was withdrawn
  });
});
