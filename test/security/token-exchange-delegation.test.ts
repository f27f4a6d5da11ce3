// Adversarial suite for token exchange (RFC 8693), the delegation half: an agent presenting a
// person's genuine token gets no more than the subject token carries, the person holds, the
// delegation and its own ceiling allow, for no other resource and no longer than the subject
// token lives; a chain only grows, within every policy's depth, and a refusal says why
// (RFC 8693 §2.2.2, RFC 6749 §5.2). Malformed requests and bad tokens:
// token-exchange-refusals.test.ts.
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowDelegation, createAgent } from '../helpers/agents.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import type { ClientCreds } from '../helpers/oauth.ts';
import { API, createUser, createWebApp, discover } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { exchange, expectRefusal, refusalOf } from './helpers/exchange.ts';
import { parts } from './helpers/tokens.ts';

const DATASETS = 'https://datasets.example';
const BRIEF = 'https://brief.example';
const ADMIN = 'urn:govauth:admin';
const MFA_MAX_AGE = 30;

let t: TestServer;
let appConfig: oidc.Configuration;
/** Agents by name, each holding the role of the same name (see POLICIES). */
const agents = new Map<string, { creds: ClientCreds; config: oidc.Configuration }>();
function agent(name: string): oidc.Configuration {
  const a = agents.get(name);
  if (!a) throw new Error(`no agent ${name}`);
  return a.config;
}
/** Alice's own tokens: for API ('ai.prediction.run ai.training.read'; she also holds ai.training.analyze) and for BRIEF. */
let alice: string;
let aliceBrief: string;

const AGENT_ROLES = ['coding-agent', 'narrow-agent', 'ttl-agent', 'relay-agent', 'deep-agent', 'single-hop-agent', 'datasets-agent', 'lonely-agent', 'solo-agent', 'ops-agent'];
const POLICIES: Parameters<typeof allowDelegation>[1][] = [
  { agentRole: 'coding-agent', forRole: 'data-scientist', resource: API },
  { agentRole: 'narrow-agent', forRole: 'data-scientist', resource: API, scopes: ['ai.prediction.run'] },
  { agentRole: 'ttl-agent', forRole: 'data-scientist', resource: API, maxTtl: 120 },
  { agentRole: 'relay-agent', forRole: 'data-scientist', resource: API, maxDepth: 2 },
  { agentRole: 'deep-agent', forRole: 'data-scientist', resource: API, maxDepth: 5 },
  { agentRole: 'single-hop-agent', forRole: 'data-scientist', resource: API, maxDepth: 1 },
  { agentRole: 'datasets-agent', forRole: 'data-scientist', resource: DATASETS },
  { agentRole: 'coding-agent', forRole: 'brief-reader', resource: BRIEF },
  { agentRole: 'coding-agent', forRole: 'admin', resource: API },
  { agentRole: 'solo-agent', forRole: 'end-user', resource: API },
];

const scopeOf = (token: string): unknown => parts(token).payload.scope;

beforeAll(async () => {
  t = await startTestServer({ env: { GOVAUTH_MFA_MAX_AGE: String(MFA_MAX_AGE) } });
  await t.cliJson('init', '--demo');
  await t.cliJson('scope', 'create', 'datasets.read', '--description', 'Read datasets');
  await t.cliJson('resource', 'create', DATASETS, '--name', 'Dataset store', '--scopes', 'datasets.read');
  await t.cliJson('scope', 'create', 'brief.read', '--description', 'Read briefs');
  await t.cliJson('scope', 'create', 'brief.peek', '--description', 'Glance at drafts', '--max-ttl', '45');
  await t.cliJson('resource', 'create', BRIEF, '--name', 'Briefs', '--scopes', 'brief.read,brief.peek');
  await t.cliJson('role', 'create', 'brief-reader', '--description', 'Reads briefs', '--scopes', 'brief.read,brief.peek,datasets.read');
  for (const role of AGENT_ROLES) await t.cliJson('role', 'create', role, '--description', `agents: ${role}`, '--scopes', 'ai.prediction.run');
  for (const role of AGENT_ROLES) {
    const extra = role === 'ops-agent' ? ['--admin-access'] : [];
    const creds = await createAgent(t, role, [role], extra);
    agents.set(role, { creds, config: await discover(t, creds) });
  }
  const ceiling = await createAgent(t, 'ceiling-agent', ['coding-agent'], ['--scopes', 'ai.training.read']);
  agents.set('ceiling-agent', { creds: ceiling, config: await discover(t, ceiling) });
  for (const p of POLICIES) await allowDelegation(t, p);
  await createUser(t, 'alice@example.com', ['data-scientist', 'brief-reader']);
  appConfig = await discover(t, await createWebApp(t));
  alice = (await headlessSignIn(appConfig, 'alice@example.com', 'openid ai.prediction.run ai.training.read')).access_token;
  aliceBrief = (await headlessSignIn(appConfig, 'alice@example.com', 'openid brief.read brief.peek', { extra: { resource: BRIEF } })).access_token;
});
afterAll(() => t?.stop());

describe('the target: the subject token’s resource, and only through a delegation for it', () => {
  it('another resource, an unknown one, or one that is not an absolute URI: invalid_target', async () => {
    const notThis = /^the subject token is not for this resource$/;
    expectRefusal(await refusalOf(exchange(agent('coding-agent'), alice, { resource: DATASETS })), 'invalid_target', notThis);
    expectRefusal(await refusalOf(exchange(agent('coding-agent'), alice, { resource: 'https://unknown.example' })), 'invalid_target', notThis);
    expectRefusal(await refusalOf(exchange(agent('coding-agent'), alice, { resource: `${API}/` })), 'invalid_target', notThis);
    expectRefusal(await refusalOf(exchange(agent('coding-agent'), alice, { resource: '', audience: DATASETS })), 'invalid_target', notThis);
    for (const resource of ['models.example', '/models', `${API}#fragment`]) {
      expectRefusal(await refusalOf(exchange(agent('coding-agent'), alice, { resource })), 'invalid_target', /^the resource must be an absolute URI without a fragment$/);
    }
    // RFC 8693 §2.1 lets an audience be a logical name; govauth's are its resources' URIs.
    expectRefusal(await refusalOf(exchange(agent('coding-agent'), alice, { resource: '', audience: 'models-api' })), 'invalid_target', /^the audience must be an absolute URI without a fragment$/);
    expectRefusal(await refusalOf(exchange(agent('coding-agent'), alice, { audience: DATASETS })), 'invalid_target', /^'resource' and 'audience' name different targets$/);
    // The control: the audience alone, or no target at all (the subject token's own).
    expect(parts((await exchange(agent('coding-agent'), alice, { resource: '', audience: API })).access_token).payload.aud).toBe(API);
    expect(parts((await exchange(agent('coding-agent'), alice, { resource: '' })).access_token).payload.aud).toBe(API);
  });

  it('an agent delegated for another resource only: invalid_target', async () => {
    expectRefusal(await refusalOf(exchange(agent('datasets-agent'), alice)), 'invalid_target', /^no delegation lets this client act for this person on this resource$/);
  });

  it('the admin API: no one may act for a person on it, not even an agent with admin access of its own', async () => {
    await createUser(t, 'dana@example.com', ['govauth-auditor']);
    const adminApp = await discover(t, await createWebApp(t, ['--admin-access']));
    const dana = (await headlessSignIn(adminApp, 'dana@example.com', 'openid govauth.audit.read', { extra: { resource: ADMIN } })).access_token;
    const policy = await t.cli('delegation', 'allow', '--agent-role', 'ops-agent', '--for-role', 'govauth-auditor', '--resource', ADMIN);
    expect(policy.code).toBe(1);
    expect(policy.stderr).toContain('cannot be delegated');
    for (const name of ['coding-agent', 'ops-agent']) {
      expectRefusal(await refusalOf(exchange(agent(name), dana, { resource: ADMIN })), 'invalid_target', /^no one may act for a person on urn:govauth:admin$/);
    }
  });
});

describe('the client: unauthorized_client unless it may exchange, and for this person', () => {
  it('a client without the token-exchange grant: a bot, a web app', async () => {
    const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'coding-agent');
    await t.server.policy.sync();
    for (const config of [await discover(t, bot), appConfig]) {
      expectRefusal(await refusalOf(exchange(config, alice)), 'unauthorized_client', /^this client may not use this grant type$/);
    }
  });

  it('an agent with the grant but no delegation for this person', async () => {
    expectRefusal(await refusalOf(exchange(agent('lonely-agent'), alice)), 'unauthorized_client', /^no delegation lets this client act for this person$/);
  });

  it('may_act: a token naming the one agent allowed for its person is exchanged by no other, even once a policy lets it', async () => {
    await createUser(t, 'erin@example.com', ['end-user']);
    const erin = (await headlessSignIn(appConfig, 'erin@example.com', 'openid ai.prediction.run')).access_token;
    expect(parts(erin).payload.may_act).toEqual({ sub: agents.get('solo-agent')?.creds.client_id });
    await allowDelegation(t, { agentRole: 'coding-agent', forRole: 'end-user', resource: API });
    expectRefusal(await refusalOf(exchange(agent('coding-agent'), erin)), 'invalid_grant', /^the subject token names another party that may act for its subject \(may_act\)$/);
    expect((await exchange(agent('solo-agent'), erin)).scope).toBe('ai.prediction.run');
  });
});

describe('scopes: what remains of the request, invalid_scope when nothing does', () => {
  const expectScope = async (config: oidc.Configuration, subject: string, scope: string | undefined, granted: string) => {
    const res = await exchange(config, subject, scope === undefined ? {} : { scope });
    expect([res.scope, scopeOf(res.access_token)], `${scope} → ${granted}`).toEqual([granted, granted]);
  };
  const expectNone = async (config: oidc.Configuration, subject: string, scope: string) =>
    expectRefusal(await refusalOf(exchange(config, subject, { scope })), 'invalid_scope', /^none of the requested scopes may be delegated to this client$/);

  it('never a scope the subject token does not carry, even one the person holds', async () => {
    await expectNone(agent('coding-agent'), alice, 'ai.training.analyze');
    await expectScope(agent('coding-agent'), alice, 'ai.training.analyze ai.prediction.run', 'ai.prediction.run');
    await expectScope(agent('coding-agent'), alice, undefined, 'ai.prediction.run ai.training.read');
  });

  it('never a scope the person does not hold, nor one that does not exist', async () => {
    for (const scope of ['ai.usage.log.read', 'ai.deploy.manage', 'no.such.scope', 'datasets.read', 'openid']) await expectNone(agent('coding-agent'), alice, scope);
    await expectScope(agent('coding-agent'), alice, 'ai.usage.log.read ai.deploy.manage ai.training.read', 'ai.training.read');
  });

  it('never beyond the delegation policy’s scopes', async () => {
    await expectScope(agent('narrow-agent'), alice, undefined, 'ai.prediction.run');
    await expectNone(agent('narrow-agent'), alice, 'ai.training.read');
    await expectScope(agent('narrow-agent'), alice, 'ai.training.read ai.prediction.run', 'ai.prediction.run');
  });

  it('never beyond the agent’s own scope ceiling', async () => {
    await expectScope(agent('ceiling-agent'), alice, undefined, 'ai.training.read');
    await expectNone(agent('ceiling-agent'), alice, 'ai.prediction.run');
    // Asking for nothing in particular: nothing the subject token carries is within the ceiling.
    const runOnly = (await exchange(agent('coding-agent'), alice, { scope: 'ai.prediction.run' })).access_token;
    expectRefusal(await refusalOf(exchange(agent('ceiling-agent'), runOnly)), 'invalid_scope', /^nothing the subject token carries may be delegated to this client$/);
  });
});

describe('lifetimes', () => {
  const life = (token: string) => {
    const { iat, exp } = parts(token).payload as { iat: number; exp: number };
    return { iat, exp, ttl: exp - iat };
  };

  it('the delegation policy’s maxTtl caps expires_in and exp', async () => {
    const res = await exchange(agent('ttl-agent'), alice);
    expect(res.expires_in).toBeLessThanOrEqual(120);
    expect(life(res.access_token).ttl).toBe(res.expires_in);
    // Without the cap it would live as long as Alice's token still does (up to 300 s).
    expect((await exchange(agent('coding-agent'), alice)).expires_in).toBeGreaterThan(120);
  });

  it('never beyond the subject token’s exp, whatever the scopes left would allow', async () => {
    const subject = life(aliceBrief);
    expect(subject.ttl).toBe(45); // brief.peek's max TTL
    const res = await exchange(agent('coding-agent'), aliceBrief, { resource: BRIEF, scope: 'brief.read' });
    expect(res.scope).toBe('brief.read'); // alone, 300 s (the default)
    expect(res.expires_in).toBeLessThanOrEqual(45);
    expect(life(res.access_token).exp).toBeLessThanOrEqual(subject.exp);
  });
});

describe('chains: they only grow, within every delegation’s depth', () => {
  const actOf = (token: string): unknown => parts(token).payload.act;
  const id = (name: string): string => agents.get(name)?.creds.client_id ?? '';

  it('each agent adds itself, current first; re-exchanging keeps the chain, never beyond the subject’s life', async () => {
    const first = (await exchange(agent('coding-agent'), alice)).access_token;
    expect(actOf(first)).toEqual({ sub: id('coding-agent') });
    const second = (await exchange(agent('relay-agent'), first)).access_token;
    expect(actOf(second)).toEqual({ sub: id('relay-agent'), act: { sub: id('coding-agent') } });
    expect(parts(second).payload.exp).toBeLessThanOrEqual(Number(parts(first).payload.exp));
    // Its current actor narrows it: the same chain, not a shorter one.
    const narrowed = await exchange(agent('relay-agent'), second, { scope: 'ai.training.read' });
    expect([actOf(narrowed.access_token), narrowed.scope]).toEqual([actOf(second), 'ai.training.read']);
    const again = (await exchange(agent('coding-agent'), first, { scope: 'ai.prediction.run' })).access_token;
    expect(actOf(again)).toEqual(actOf(first));
    // A deep agent may join a chain of two (its own policy allows 5, the first hop's 2).
    expect(actOf((await exchange(agent('deep-agent'), first)).access_token)).toEqual({ sub: id('deep-agent'), act: { sub: id('coding-agent') } });
    // The audit names the whole chain and the token presented, by jti: never a token itself.
    await t.server.audit.flush();
    const [row] = await t.server.db.prisma.auditEvent.findMany({ where: { action: 'token.exchanged', clientId: id('relay-agent') }, orderBy: { seq: 'asc' }, take: 1 });
    expect(JSON.parse(row?.detail ?? '{}')).toMatchObject({ jti: parts(second).payload.jti, act: [id('relay-agent'), id('coding-agent')], subject_token_jti: parts(first).payload.jti });
    expect(JSON.stringify(row)).not.toContain(first.split('.')[2]);
  });

  it('deeper than any delegation of the chain allows: invalid_grant, audited as chain_too_deep', async () => {
    const first = (await exchange(agent('coding-agent'), alice)).access_token;
    const second = (await exchange(agent('relay-agent'), first)).access_token;
    const tooDeep = /^the delegation chain would be longer than its delegations allow$/;
    // The deep agent's policy allows 5, but the relay's and the coding agent's allow 2.
    expectRefusal(await refusalOf(exchange(agent('deep-agent'), second)), 'invalid_grant', tooDeep);
    // The single-hop agent's own policy allows a chain of 1.
    expectRefusal(await refusalOf(exchange(agent('single-hop-agent'), first)), 'invalid_grant', tooDeep);
    await t.server.audit.flush();
    for (const name of ['deep-agent', 'single-hop-agent']) {
      const rows = await t.server.db.prisma.auditEvent.findMany({ where: { action: 'token.refused', clientId: id(name) } });
      expect(rows.map((r) => JSON.parse(r.detail) as unknown)).toEqual([{ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', error: 'invalid_grant', reason: 'chain_too_deep' }]);
    }
  });

  it('an actor already in the chain, not its current one: invalid_grant', async () => {
    const first = (await exchange(agent('coding-agent'), alice)).access_token;
    const second = (await exchange(agent('relay-agent'), first)).access_token;
    expectRefusal(await refusalOf(exchange(agent('coding-agent'), second)), 'invalid_grant', /^this client already acts in the subject token’s chain$/);
  });
});

// Last: it moves the server's clock past the second factor's freshness.
describe('a high-sensitivity scope', () => {
  it('is delegated only while the subject token’s second factor is fresh; the rest still is', async () => {
    await createUser(t, 'carol@example.com', ['admin']);
    const { secret } = await t.cliJson<{ secret: string }>('user', 'mfa', 'enroll', 'carol@example.com');
    const carol = (await headlessSignIn(appConfig, 'carol@example.com', 'openid ai.deploy.manage ai.prediction.run', { totpSecret: secret })).access_token;
    expect(scopeOf(carol)).toBe('ai.deploy.manage ai.prediction.run');
    const fresh = await exchange(agent('coding-agent'), carol, { scope: 'ai.deploy.manage' });
    expect(fresh.scope).toBe('ai.deploy.manage');
    expect(fresh.expires_in).toBeLessThanOrEqual(300); // its max TTL
    t.advance((MFA_MAX_AGE + 1) * 1000);
    expectRefusal(await refusalOf(exchange(agent('coding-agent'), carol, { scope: 'ai.deploy.manage' })), 'invalid_scope', /^none of the requested scopes may be delegated to this client$/);
    expect((await exchange(agent('coding-agent'), carol)).scope).toBe('ai.prediction.run');
  });
});
