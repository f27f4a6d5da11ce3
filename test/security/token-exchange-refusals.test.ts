// Adversarial suite for token exchange (RFC 8693): malformed requests and tokens that are not
// a person's live access token from this server. Each answer is the standard error (RFC 8693
// §2.2.2, RFC 6749 §5.2) with a description saying what is wrong, JSON, never cached, never a
// 500. A genuine exchange is checked first, so every refusal is the attack's alone. Delegation
// and policy refusals (targets, scopes, lifetimes, chains): token-exchange-delegation.test.ts.
import fc from 'fast-check';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE, allowDelegation, createAgent } from '../helpers/agents.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { basic, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { API, PASSWORD, createResourceServer, createUser, createWebApp, discover } from '../helpers/people.ts';
import { SignInSteps, authorize } from '../helpers/sign-in-steps.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { exchange, expectRefusal, postExchange, refusalOf } from './helpers/exchange.ts';
import { isActive } from './helpers/flows.ts';
import { attackerKey, parts, rsaSigned, withSignature } from './helpers/tokens.ts';

const EXPIRING = 'https://expiring.example';
const OTHER_ISSUER = 'http://other-issuer.example';
const LIMIT = 3;
const NOT_OURS = /^the subject_token is not an access token issued by this server$/;

let db: TestDatabase;
let t: TestServer;
/** A second instance on the same database (same keys): another issuer, small limits. */
let other: TestServer;
let rs: ClientCreds;
let appConfig: oidc.Configuration;
let agent: ClientCreds;
let agentConfig: oidc.Configuration;
let otherAgentConfig: oidc.Configuration;
let busyAgent: ClientCreds;
/** Used only at the other issuer, so its token budget there is untouched. */
let foreignBot: ClientCreds;
/** Alice's own tokens (access, refresh, ID) from one sign-in. */
let alice: { access: string; refresh: string; id: string };
let agentOwn: string;
/** Alice's token for EXPIRING, which lives one second. */
let expiring: string;

const post = (params: Record<string, string | readonly string[]>, auth: ClientCreds | undefined = agent) => postExchange(t.url, auth, params);
const withSubject = (extra: Record<string, string | readonly string[]> = {}) => post({ subject_token: alice.access, subject_token_type: ACCESS_TOKEN_TYPE, resource: API, ...extra });

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer({ db });
  await t.cliJson('init', '--demo');
  await t.cliJson('role', 'create', 'coding-agent', '--description', 'AI coding assistants', '--scopes', 'ai.prediction.run');
  await t.cliJson('scope', 'create', 'expiring.read', '--description', 'Read what lives one second');
  await t.cliJson('resource', 'create', EXPIRING, '--name', 'Expiring API', '--scopes', 'expiring.read', '--token-ttl', '1');
  await t.cliJson('role', 'create', 'expiring-reader', '--description', 'Reads the expiring API', '--scopes', 'expiring.read');
  rs = await createResourceServer(t);
  appConfig = await discover(t, await createWebApp(t));
  await createUser(t, 'alice@example.com', ['data-scientist', 'expiring-reader']);
  await createUser(t, 'bob@example.com', ['data-scientist']);
  agent = await createAgent(t, 'Model Studio Agent', ['coding-agent']);
  const otherAgent = await createAgent(t, 'Another Agent', ['coding-agent']);
  busyAgent = await createAgent(t, 'Busy Agent', ['coding-agent']);
  foreignBot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'foreign-bot', '--grant', 'client_credentials', '--roles', 'coding-agent');
  await allowDelegation(t, { agentRole: 'coding-agent', forRole: 'data-scientist', resource: API });
  agentConfig = await discover(t, agent);
  otherAgentConfig = await discover(t, otherAgent);
  other = await startTestServer({
    db,
    masterKey: t.env.GOVAUTH_MASTER_KEY,
    env: { GOVAUTH_ISSUER: OTHER_ISSUER, GOVAUTH_RATE_LIMIT_TOKEN: String(LIMIT), GOVAUTH_RATE_LIMIT_CLIENT_AUTH_FAILURES: String(LIMIT), GOVAUTH_TRUST_PROXY: 'true' },
  });
  await other.server.policy.sync();
  const own = await headlessSignIn(appConfig, 'alice@example.com', 'openid offline_access ai.prediction.run ai.training.read', { extra: { prompt: 'consent' } });
  alice = { access: own.access_token, refresh: own.refresh_token ?? '', id: own.id_token ?? '' };
  agentOwn = (await oidc.clientCredentialsGrant(agentConfig, { resource: API })).access_token;
  expiring = (await headlessSignIn(appConfig, 'alice@example.com', 'openid expiring.read', { extra: { resource: EXPIRING } })).access_token;
});
afterAll(async () => {
  await other?.stop();
  await t?.stop();
  await db?.drop();
});

describe('the control', () => {
  it('exchanges Alice’s access token for the agent, with or without its own token as actor_token', async () => {
    expect((await exchange(agentConfig, alice.access)).scope).toBe('ai.prediction.run ai.training.read');
    const res = await exchange(agentConfig, alice.access, { actor_token: agentOwn, actor_token_type: ACCESS_TOKEN_TYPE, requested_token_type: ACCESS_TOKEN_TYPE });
    expect(res.issued_token_type).toBe(ACCESS_TOKEN_TYPE);
    expect(await isActive(t.issuer, rs, res.access_token)).toBe(true);
  });
});

describe('malformed requests: invalid_request', () => {
  it('a missing or empty subject_token or subject_token_type', async () => {
    expectRefusal(await post({ subject_token_type: ACCESS_TOKEN_TYPE, resource: API }), 'invalid_request', /missing required parameter 'subject_token'/);
    expectRefusal(await post({ subject_token: '', subject_token_type: ACCESS_TOKEN_TYPE, resource: API }), 'invalid_request', /missing required parameter 'subject_token'/);
    expectRefusal(await post({ subject_token: alice.access, resource: API }), 'invalid_request', /missing required parameter 'subject_token_type'/);
    expectRefusal(await post({ subject_token: alice.access, subject_token_type: '', resource: API }), 'invalid_request', /missing required parameter 'subject_token_type'/);
  });

  it('any parameter given twice, even with the same value', async () => {
    const twice = { subject_token: [alice.access, agentOwn], subject_token_type: [ACCESS_TOKEN_TYPE, ACCESS_TOKEN_TYPE], resource: [API, 'https://datasets.example'], audience: [API, API], scope: ['ai.prediction.run', 'ai.training.read'], requested_token_type: [ACCESS_TOKEN_TYPE, ACCESS_TOKEN_TYPE] };
    for (const [name, values] of Object.entries(twice)) {
      expectRefusal(await withSubject({ [name]: values }), 'invalid_request', new RegExp(`'?${name}'? parameter must not be provided twice`));
    }
    expectRefusal(await withSubject({ actor_token: [agentOwn, agentOwn], actor_token_type: ACCESS_TOKEN_TYPE }), 'invalid_request', /actor_token'? parameter must not be provided twice/);
  });

  it('a subject_token_type other than an access token: refresh and ID tokens, JWTs, SAML, anything', async () => {
    for (const type of ['refresh_token', 'id_token', 'jwt', 'saml1', 'saml2'].map((s) => `urn:ietf:params:oauth:token-type:${s}`).concat(['access_token', 'urn:ietf:params:oauth:token-type:ACCESS_TOKEN', `${ACCESS_TOKEN_TYPE} `, 'urn:x:garbage'])) {
      expectRefusal(await withSubject({ subject_token_type: type }), 'invalid_request', /^unsupported subject_token_type: govauth exchanges the access tokens it issued \(urn:ietf:params:oauth:token-type:access_token\)$/);
    }
  });

  it('a requested_token_type or actor_token_type other than an access token', async () => {
    for (const type of ['refresh_token', 'id_token', 'jwt'].map((s) => `urn:ietf:params:oauth:token-type:${s}`)) {
      expectRefusal(await withSubject({ requested_token_type: type }), 'invalid_request', /^unsupported requested_token_type: govauth issues urn:ietf:params:oauth:token-type:access_token$/);
      expectRefusal(await withSubject({ actor_token: agentOwn, actor_token_type: type }), 'invalid_request', /^unsupported actor_token_type: use urn:ietf:params:oauth:token-type:access_token$/);
    }
  });

  it('an actor_token without its type, or a type without the token', async () => {
    expectRefusal(await withSubject({ actor_token: agentOwn }), 'invalid_request', /'actor_token_type' is required with 'actor_token'/);
    expectRefusal(await withSubject({ actor_token_type: ACCESS_TOKEN_TYPE }), 'invalid_request', /'actor_token_type' was given without 'actor_token'/);
  });

  it('oversized tokens, and a body too large to read', async () => {
    const long = `${alice.access}.${'A'.repeat(8192)}`;
    expectRefusal(await withSubject({ subject_token: long }), 'invalid_request', /^'subject_token' is too long$/);
    expectRefusal(await withSubject({ actor_token: long, actor_token_type: ACCESS_TOKEN_TYPE }), 'invalid_request', /^'actor_token' is too long$/);
    expectRefusal(await withSubject({ subject_token: 'A'.repeat(100_000) }), 'invalid_request', /^request body exceeds 16384 bytes$/, 413);
  });

  it('a scope with characters no scope may hold', async () => {
    expectRefusal(await withSubject({ scope: 'ai.prediction.run "x"' }), 'invalid_scope', /scope contains invalid characters/);
  });
});

describe('a subject_token that is not a person’s live access token from this server: invalid_grant', () => {
  it('a refresh token: invalid_grant as an access token, invalid_request as its own type', async () => {
    expectRefusal(await withSubject({ subject_token: alice.refresh }), 'invalid_grant', NOT_OURS);
    expectRefusal(await withSubject({ subject_token: alice.refresh, subject_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }), 'invalid_request', /unsupported subject_token_type/);
  });

  it('an ID token (another audience: the app), as an access token or as its own type', async () => {
    expect(parts(alice.id).payload.aud).not.toBe(API);
    expectRefusal(await withSubject({ subject_token: alice.id }), 'invalid_grant', NOT_OURS);
    expectRefusal(await withSubject({ subject_token: alice.id, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }), 'invalid_request', /unsupported subject_token_type/);
  });

  it('a signed introspection response: signed with these keys, about Alice’s token, but not an access token', async () => {
    const res = await fetch(`${t.url}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs), accept: 'application/token-introspection+jwt' },
      body: new URLSearchParams({ token: alice.access }),
    });
    const signed = await res.text();
    expect(parts(signed).header.typ).toBe('token-introspection+jwt');
    expectRefusal(await withSubject({ subject_token: signed }), 'invalid_grant', NOT_OURS);
  });

  it('garbage, and a client_credentials token (no person to act for)', async () => {
    for (const garbage of ['x', 'a.b.c', '...', alice.access.split('.').slice(0, 2).join('.')]) expectRefusal(await withSubject({ subject_token: garbage }), 'invalid_grant', NOT_OURS);
    expectRefusal(await withSubject({ subject_token: agentOwn }), 'invalid_grant', /^the subject_token does not represent a person$/);
  });

  it('an expired one', async () => {
    const { exp } = parts(expiring).payload as { exp: number };
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp * 1000 - Date.now() + 50)));
    expectRefusal(await post({ subject_token: expiring, subject_token_type: ACCESS_TOKEN_TYPE }), 'invalid_grant', /^the subject_token has expired$/);
  });

  it('a forged one: signature altered, alg none, another key, claims changed under the genuine signature', async () => {
    const { header, payload, signature } = parts(alice.access);
    const key = await attackerKey(String(header.kid));
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    const forgeries = [
      withSignature(header, payload, flipped),
      withSignature({ ...header, alg: 'none' }, payload),
      withSignature({ ...header, alg: 'none' }, payload, signature),
      await rsaSigned(key.privateKey, header, payload),
      await rsaSigned(key.privateKey, { ...header, jwk: key.publicJwk }, payload),
      withSignature(header, { ...payload, scope: 'ai.prediction.run ai.training.read ai.deploy.manage' }, signature),
      withSignature(header, { ...payload, exp: Number(payload.exp) + 86_400 }, signature),
    ];
    for (const forged of forgeries) expectRefusal(await withSubject({ subject_token: forged }), 'invalid_grant', NOT_OURS);
  });

  it('one from another issuer, even signed with these very keys', async () => {
    const foreign = await tokenRequest(other.url, { grant_type: 'client_credentials', resource: API }, { basic: foreignBot });
    const token = String(foreign.body.access_token);
    expect(parts(token).payload.iss).toBe(OTHER_ISSUER);
    // A client's token from this issuer is refused as nobody's (above); this one for its issuer.
    expectRefusal(await withSubject({ subject_token: token }), 'invalid_grant', NOT_OURS);
    expectRefusal(await withSubject({ actor_token: token, actor_token_type: ACCESS_TOKEN_TYPE }), 'invalid_grant', /^the actor_token is not an access token issued by this server$/);
  });

  it('a DPoP-bound one: the agent does not hold its key', async () => {
    const { req, callback } = await authorize(appConfig, 'openid ai.prediction.run', (p) => (p.kind === 'login' ? { email: 'alice@example.com', password: PASSWORD } : { decision: 'allow' }), { steps: new SignInSteps({ forwardedFor: null }) });
    const dpop = oidc.getDPoPHandle(appConfig, await oidc.randomDPoPKeyPair());
    const bound = await oidc.authorizationCodeGrant(appConfig, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce }, undefined, { DPoP: dpop });
    expect(bound.token_type).toBe('dpop');
    expect(Object.keys(parts(bound.access_token).payload.cnf ?? {})).toEqual(['jkt']);
    expectRefusal(await refusalOf(exchange(agentConfig, bound.access_token)), 'invalid_grant', /^the subject_token is bound to its holder’s key and cannot be exchanged$/);
  });
});

describe('revoked subject tokens: invalid_grant, and what was exchanged from them ends too', () => {
  const signedIn = () => headlessSignIn(appConfig, 'alice@example.com', 'openid offline_access ai.prediction.run', { extra: { prompt: 'consent' } });

  it('RFC 7009 revocation of the access token by its app', async () => {
    const own = await signedIn();
    const delegated = (await exchange(agentConfig, own.access_token)).access_token;
    await oidc.tokenRevocation(appConfig, own.access_token);
    expectRefusal(await refusalOf(exchange(agentConfig, own.access_token)), 'invalid_grant', /^the subject_token is no longer active$/);
    // Its life bounds the delegated token's (RFC 8693 §2.1 "act on behalf of" the subject
    // token's authority), so its revocation must too, as a revocation of its grant does.
    expect(await isActive(t.issuer, rs, delegated)).toBe(false);
  });

  it('RFC 7009 revocation of the refresh token (the grant, §2.1) by its app', async () => {
    const own = await signedIn();
    const delegated = (await exchange(agentConfig, own.access_token)).access_token;
    await oidc.tokenRevocation(appConfig, own.refresh_token ?? '', { token_type_hint: 'refresh_token' });
    expectRefusal(await refusalOf(exchange(agentConfig, own.access_token)), 'invalid_grant', /^the subject_token is no longer active$/);
    expect(await isActive(t.issuer, rs, delegated)).toBe(false);
  });

  it('`govauth revoke --user`', async () => {
    const bob = (await headlessSignIn(appConfig, 'bob@example.com', 'openid ai.prediction.run')).access_token;
    const delegated = (await exchange(agentConfig, bob)).access_token;
    await t.cliJson('revoke', '--user', 'bob@example.com', '--reason', 'laptop stolen');
    await t.server.policy.sync();
    expectRefusal(await refusalOf(exchange(agentConfig, bob)), 'invalid_grant', /^the subject_token is no longer active$/);
    expect(await isActive(t.issuer, rs, delegated)).toBe(false);
  });
});

describe('actor tokens: only the authenticated agent’s own, undelegated token', () => {
  it('another client’s, one carrying act, a person’s, garbage: invalid_grant', async () => {
    const others = (await oidc.clientCredentialsGrant(otherAgentConfig, { resource: API })).access_token;
    const delegated = (await exchange(agentConfig, alice.access)).access_token;
    const notOwn = /^the actor_token must be an access token the authenticated client obtained for itself$/;
    for (const actor of [others, delegated, alice.access]) expectRefusal(await withSubject({ actor_token: actor, actor_token_type: ACCESS_TOKEN_TYPE }), 'invalid_grant', notOwn);
    expectRefusal(await withSubject({ actor_token: 'garbage', actor_token_type: ACCESS_TOKEN_TYPE }), 'invalid_grant', /^the actor_token is not an access token issued by this server$/);
  });

  it('its own DPoP-bound token without a proof of its key: invalid_grant', async () => {
    const dpop = oidc.getDPoPHandle(agentConfig, await oidc.randomDPoPKeyPair());
    const bound = (await oidc.clientCredentialsGrant(agentConfig, { resource: API }, { DPoP: dpop })).access_token;
    expectRefusal(await withSubject({ actor_token: bound, actor_token_type: ACCESS_TOKEN_TYPE }), 'invalid_grant', /^the actor_token is DPoP-bound: present a DPoP proof with its key$/);
    // With the proof, the exchanged token is bound to the agent's key.
    const res = await exchange(agentConfig, alice.access, { actor_token: bound, actor_token_type: ACCESS_TOKEN_TYPE }, { DPoP: dpop });
    expect(res.token_type).toBe('dpop');
  });
});

describe('client authentication and rate limits apply to the grant', () => {
  const exchangeAt = (auth: ClientCreds | undefined, from: string) =>
    postExchange(other.url, auth, { subject_token: alice.access, subject_token_type: ACCESS_TOKEN_TYPE, resource: API }, { 'x-forwarded-for': from });

  it('no client authentication, or a wrong secret: 401 invalid_client; the address’s failure budget then answers 429', async () => {
    const from = '203.0.113.10';
    expectRefusal(await exchangeAt(undefined, from), 'invalid_client', /client authentication is required/);
    const wrong = { client_id: agent.client_id, client_secret: `${agent.client_secret}x` };
    for (let i = 0; i < LIMIT; i++) {
      const r = await exchangeAt(wrong, from);
      expectRefusal(r, 'invalid_client', /client authentication failed/);
      expect(r.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    const throttled = await exchangeAt(wrong, from);
    expectRefusal(throttled, 'slow_down', /failed client authentications .* retry after \d+ s/, 429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('the per-client token rate limit: 429 slow_down once the agent has spent its budget', async () => {
    const from = '203.0.113.11';
    // Refused at this issuer (Alice's token is another issuer's here), but each one spends.
    for (let i = 0; i < LIMIT; i++) expectRefusal(await exchangeAt(busyAgent, from), 'invalid_grant', NOT_OURS);
    const limited = await exchangeAt(busyAgent, from);
    expectRefusal(limited, 'slow_down', /too many token requests from this client \(limit 3 per minute\); retry after \d+ s/, 429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

describe('under property-based fuzzing (fixed seed)', () => {
  it('answers any mix of the exchange’s parameters with a token or a 4xx OAuth error, never a 5xx', async () => {
    const NAMES = ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'resource', 'audience', 'scope'];
    const types = ['access_token', 'refresh_token', 'id_token', 'jwt'].map((x) => `urn:ietf:params:oauth:token-type:${x}`);
    const value = fc.oneof(
      fc.constantFrom(alice.access, alice.refresh, alice.id, agentOwn, expiring, `${alice.access}x`, API, EXPIRING, 'urn:govauth:admin', 'ai.prediction.run', 'openid ai.deploy.manage', ...types),
      fc.string({ maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 30 }),
    );
    const request = fc.tuple(
      fc.shuffledSubarray([['subject_token', alice.access], ['subject_token_type', ACCESS_TOKEN_TYPE], ['resource', API], ['scope', 'ai.prediction.run']] as [string, string][]),
      fc.array(fc.tuple(fc.constantFrom(...NAMES), value), { maxLength: 4 }),
    );
    await fc.assert(
      fc.asyncProperty(request, async ([kept, extra]) => {
        const form = new URLSearchParams([['grant_type', TOKEN_EXCHANGE], ...kept, ...extra]);
        const res = await fetch(`${t.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(agent) }, body: form });
        const body = (await res.json()) as Record<string, unknown>;
        if (res.status === 200) return;
        expect([res.status, typeof body.error, typeof body.error_description], `${form.toString().slice(0, 300)} → ${JSON.stringify(body)}`).toEqual([expect.any(Number), 'string', 'string']);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.headers.get('cache-control')).toMatch(/no-store/);
      }),
      { seed: 0x7e8693, numRuns: 150, endOnFailure: true },
    );
  });
});
