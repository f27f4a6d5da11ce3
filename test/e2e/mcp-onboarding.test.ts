// MCP onboarding as an MCP client meets govauth: the official SDK's client discovers govauth
// from an MCP server's RFC 9728 metadata, registers itself (RFC 7591), the person signs in
// (the headless walker), and the client calls a tool with a token for the server's resource.
// Governance holds throughout: an unvetted client never receives a high-sensitivity scope, and
// a blocked one is refused at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/governance/totp.ts';
import { authorizeMcpClient, callWhoami, MemoryOAuthProvider, startMcpServer, type McpFixture } from '../helpers/mcp-fixture.ts';
import { createUser, PASSWORD } from '../helpers/people.ts';
import type { Answer } from '../helpers/sign-in-steps.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { startHttpsFixtureServer, type HttpsFixtureServer } from '../helpers/https-fixture-server.ts';

let t: TestServer;
let mcp: McpFixture;
/** Serves client ID metadata documents over https on 127.0.0.1 (the development allowance). */
let documents: HttpsFixtureServer;
let aliceTotp: string;
/** How far govauth's clock was moved (a TOTP code is accepted once: the next sign-in needs the next one). */
let offset = 0;

/** A person who gets everything right; the consent pages they saw are kept. */
function person(email: string, totpSecret?: string): { answer: Answer; consents: string[] } {
  const consents: string[] = [];
  const answer: Answer = (page) => {
    if (page.seen > 0) throw new Error(`${page.kind} page again (${page.status}): ${page.html.slice(0, 300)}`);
    if (page.kind === 'login') return { email, password: PASSWORD };
    if (page.kind === 'mfa') return { code: totpCode(totpSecret ?? '', Date.now() + offset) };
    if (page.kind === 'consent') {
      consents.push(page.html);
      return { decision: 'allow' };
    }
    throw new Error(`unexpected ${page.kind} page`);
  };
  return { answer, consents };
}

const nativeClient = (name: string): MemoryOAuthProvider =>
  new MemoryOAuthProvider({
    client_name: name,
    redirect_uris: [`http://127.0.0.1:${40_000 + Math.floor(Math.random() * 20_000)}/callback`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  });

beforeAll(async () => {
  documents = await startHttpsFixtureServer();
  t = await startTestServer({ env: { GOVAUTH_DYNAMIC_REGISTRATION: 'open', GOVAUTH_CLIENT_ID_METADATA_DOCUMENTS: 'true', GOVAUTH_RATE_LIMIT_TOKEN: '0', ...documents.fetchEnv } });
  await t.cliJson('init', '--demo');
  await createUser(t, 'bob@example.com', ['end-user']);
  await createUser(t, 'alice@example.com', ['admin']);
  aliceTotp = (await t.cliJson<{ secret: string }>('user', 'mfa', 'enroll', 'alice@example.com')).secret;
  await t.server.policy.sync();
  mcp = await startMcpServer(t.issuer, ['ai.prediction.run'], async (audience) => {
    await t.cliJson('resource', 'create', audience, '--name', 'Models over MCP', '--scopes', 'ai.prediction.run,ai.deploy.manage');
    await t.server.policy.sync();
  });
});
afterAll(async () => {
  await mcp?.close();
  await documents?.close();
  await t?.stop();
});

describe('an MCP client that registers itself (RFC 7591)', () => {
  it('discovers govauth from the MCP server, registers, signs the person in and calls a tool', async () => {
    const client = nativeClient('Claude-like desktop client');
    const bob = person('bob@example.com');
    await authorizeMcpClient(client, mcp.url, bob.answer);
    const who = await callWhoami(mcp.url, client);
    expect(who.clientId).toBe(client.info?.client_id);
    expect(who.scopes).toEqual(['ai.prediction.run']);
    // The consent page says what the client is: registered by itself, not reviewed.
    expect(bob.consents[0]).toContain('not been reviewed by your organisation');
    expect(bob.consents[0]).toContain('registered itself');
    const listed = await t.cliJson<{ clients: { client_id: string; kind: string; trust: string }[] }>('client', 'self-registered');
    expect(listed.clients).toContainEqual(expect.objectContaining({ client_id: client.info?.client_id, kind: 'dynamic', trust: 'unreviewed' }));
    // The access review lists it with its last use and what reached people through it.
    const review = await t.cliJson<{ self_registered: { client_id: string; last_used_at: string | null; scopes: { scope: string }[] }[] }>('review');
    const entry = review.self_registered.find((c) => c.client_id === client.info?.client_id);
    expect(entry?.last_used_at).toBeTruthy();
    expect(entry?.scopes.map((s) => s.scope)).toEqual(['ai.prediction.run']);
  });

  it('never gives an unvetted client a high-sensitivity scope the person holds and asks for; approved, it may', async () => {
    const client = nativeClient('Unvetted deployer');
    const alice = person('alice@example.com', aliceTotp);
    const tokens = await authorizeMcpClient(client, mcp.url, alice.answer, 'ai.prediction.run ai.deploy.manage');
    expect(tokens.scope?.split(' ')).toEqual(['ai.prediction.run']);
    expect(alice.consents[0]).not.toContain('value="ai.deploy.manage"');

    await t.cliJson('client', 'approve', client.info?.client_id ?? '');
    await t.server.policy.sync();
    t.advance(30_000);
    offset += 30_000;
    const again = new MemoryOAuthProvider(client.clientMetadata);
    again.info = client.info;
    const approved = await authorizeMcpClient(again, mcp.url, person('alice@example.com', aliceTotp).answer, 'ai.prediction.run ai.deploy.manage');
    expect(approved.scope?.split(' ').sort()).toEqual(['ai.deploy.manage', 'ai.prediction.run']);
    // Approved or not, a person gives only what their own roles grant.
    const forBob = new MemoryOAuthProvider(client.clientMetadata);
    forBob.info = client.info;
    const bobs = await authorizeMcpClient(forBob, mcp.url, person('bob@example.com').answer, 'ai.prediction.run ai.deploy.manage');
    expect(bobs.scope?.split(' ')).toEqual(['ai.prediction.run']);
  });

  it('refuses a blocked client at once: invalid_client at the token endpoint', async () => {
    const client = nativeClient('Soon blocked');
    const tokens = await authorizeMcpClient(client, mcp.url, person('bob@example.com').answer);
    await t.cliJson('client', 'block', client.info?.client_id ?? '');
    await t.server.policy.sync();
    const res = await fetch(`${t.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '', client_id: client.info?.client_id ?? '' }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
  });
});

/** A client ID metadata document at `path` on the fixture, and an SDK provider identifying by it. */
function documentClient(path: string, name: string): { provider: MemoryOAuthProvider; clientId: string } {
  const clientId = `${documents.url}${path}`;
  const redirect = `http://127.0.0.1:${40_000 + Math.floor(Math.random() * 20_000)}/callback`;
  const metadata = { client_id: clientId, client_name: name, redirect_uris: [redirect], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  documents.serve(path, { body: metadata, headers: { 'cache-control': 'max-age=300' } });
  return { provider: new MemoryOAuthProvider({ client_name: name, redirect_uris: [redirect], grant_types: metadata.grant_types, response_types: ['code'], token_endpoint_auth_method: 'none' }, clientId), clientId };
}

// Without client authentication, RFC 6749 §5.2 answers invalid_client with 400 (401 is for a
// client that authenticated by the Authorization header).
const tokenWith = async (clientId: string): Promise<{ status: number; error: string; description: string }> => {
  const res = await fetch(`${t.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'nope', redirect_uri: 'http://127.0.0.1:1/cb', code_verifier: 'x'.repeat(43), client_id: clientId }),
  });
  const body = (await res.json()) as { error: string; error_description: string };
  expect(res.status).toBe(400);
  return { status: res.status, error: body.error, description: body.error_description };
};

describe('an MCP client that identifies itself by a client ID metadata document', () => {
  it('finds both ways in the authorization server metadata (RFC 8414)', async () => {
    const meta = (await (await fetch(`${t.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({ client_id_metadata_document_supported: true, registration_endpoint: `${t.issuer}/reg`, code_challenge_methods_supported: ['S256'], authorization_response_iss_parameter_supported: true });
  });

  it('is fetched, recorded, shown by its domain, signed in and calls a tool', async () => {
    const { provider, clientId } = documentClient('/mcp-client.json', 'Document MCP client');
    const bob = person('bob@example.com');
    await authorizeMcpClient(provider, mcp.url, bob.answer);
    expect(provider.info?.client_id).toBe(clientId);
    const who = await callWhoami(mcp.url, provider);
    expect(who).toMatchObject({ clientId, scopes: ['ai.prediction.run'] });
    expect(bob.consents[0]).toContain('identified itself by its domain <strong>127.0.0.1</strong>');
    expect(bob.consents[0]).toContain('not been reviewed by your organisation');
    const listed = await t.cliJson<{ clients: { client_id: string; kind: string; host: string; trust: string }[] }>('client', 'self-registered');
    expect(listed.clients).toContainEqual(expect.objectContaining({ client_id: clientId, kind: 'metadata_document', host: '127.0.0.1', trust: 'unreviewed' }));
  });

  it('refuses a blocked document client at once, and documents that fail, with invalid_client', async () => {
    const { provider, clientId } = documentClient('/blocked.json', 'Soon blocked document client');
    await authorizeMcpClient(provider, mcp.url, person('bob@example.com').answer);
    await t.cliJson('client', 'block', clientId);
    await t.server.policy.sync();
    const blocked = await tokenWith(clientId);
    expect(blocked.error).toBe('invalid_client');
    expect(blocked.description).toMatch(/blocked/);

    documents.serve('/missing-status.json', { status: 404, body: {} });
    expect(await tokenWith(`${documents.url}/missing-status.json`)).toMatchObject({ error: 'invalid_client' });
    documents.serve('/moved.json', { status: 302, headers: { location: `${documents.url}/mcp-client.json` } });
    expect(await tokenWith(`${documents.url}/moved.json`)).toMatchObject({ error: 'invalid_client' });
    documents.serve('/not-json.json', { body: 'not json' });
    expect(await tokenWith(`${documents.url}/not-json.json`)).toMatchObject({ error: 'invalid_client' });
    // The document must name its own URL (draft-ietf-oauth-client-id-metadata-document §4.1).
    documents.serve('/other.json', { body: { client_id: `${documents.url}/mcp-client.json`, redirect_uris: ['http://127.0.0.1:1/cb'], token_endpoint_auth_method: 'none' } });
    expect(await tokenWith(`${documents.url}/other.json`)).toMatchObject({ status: 400, error: 'invalid_client_metadata' });
  });

  it('refuses documents from hosts the trust policy does not admit, before fetching them', async () => {
    await t.cliJson('client', 'trust-policy', '--refuse-unknown-hosts', '--trust-host', 'mcp.trusted.example');
    await t.server.policy.sync();
    documents.serve('/untrusted.json', { body: {} });
    const untrusted = await tokenWith(`${documents.url}/untrusted.json`);
    expect(untrusted.error).toBe('invalid_client');
    expect(untrusted.description).toMatch(/not trusted/);
    expect(documents.hits('/untrusted.json')).toBe(0);
    await t.cliJson('client', 'trust-policy', '--allow-unknown-hosts');
  });
});
