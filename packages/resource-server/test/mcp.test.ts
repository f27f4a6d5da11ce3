// An MCP server on the official SDK, protected two ways: the SDK's requireBearerAuth with this
// kit's token verifier, and this kit's requireMcpAuth (DPoP too). A real MCP client calls a tool
// with a govauth token; the tool sees who called through extra.authInfo.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover } from '../../../test/helpers/people.ts';
import { createTokenVerifier, requireMcpAuth } from '../src/adapters/mcp.ts';
import { protectedResourceMetadata } from '../src/adapters/express.ts';
import { createResourceServer, type ResourceServer } from '../src/index.ts';
import { API, startGovauth, type Govauth } from './helpers/govauth.ts';

let g: Govauth;
let kit: ResourceServer;
let server: Server;
let url: string;

function mcpHandler(): express.RequestHandler {
  return async (req, res) => {
    const mcp = new McpServer({ name: 'models', version: '1.0.0' });
    mcp.registerTool('whoami', { description: 'Who is calling' }, (extra) => ({
      content: [{ type: 'text', text: JSON.stringify({ clientId: extra.authInfo?.clientId, scopes: extra.authInfo?.scopes, roles: extra.authInfo?.extra?.roles }) }],
    }));
    // Stateless: one server and transport per request.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close());
    await mcp.connect(transport);
    await transport.handleRequest(req, res, req.body);
  };
}

beforeAll(async () => {
  g = await startGovauth();
  kit = createResourceServer({ issuer: g.t.issuer, audience: API, resourceName: 'Model API (MCP)' });
  const app = express();
  app.use(express.json());
  app.use(protectedResourceMetadata(kit));
  const scopes = ['ai.prediction.run'];
  app.post('/mcp', requireBearerAuth({ verifier: createTokenVerifier({ resourceServer: kit, scopes }), requiredScopes: scopes, resourceMetadataUrl: kit.metadataUrl, expectedResource: new URL(API) }), mcpHandler());
  app.post('/mcp-dpop', requireMcpAuth({ resourceServer: kit, scopes }), mcpHandler());
  app.post('/mcp-deploy', requireBearerAuth({ verifier: createTokenVerifier({ resourceServer: kit, scopes: ['ai.deploy.manage'] }), requiredScopes: ['ai.deploy.manage'], resourceMetadataUrl: kit.metadataUrl }), mcpHandler());
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await g?.t.stop();
});

async function callWhoami(path: string, fetchImpl?: typeof fetch, token?: string): Promise<Record<string, unknown>> {
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${url}${path}`), { requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {}, ...(fetchImpl && { fetch: fetchImpl }) });
  await client.connect(transport);
  try {
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    return JSON.parse((result.content as Array<{ text: string }>)[0]?.text ?? '{}') as Record<string, unknown>;
  } finally {
    await client.close();
  }
}

describe('with the SDK’s requireBearerAuth and this kit’s token verifier', () => {
  it('lets an MCP client with a govauth token call a tool that sees the caller', async () => {
    expect(await callWhoami('/mcp', undefined, await g.token())).toEqual({
      clientId: g.bot.client_id,
      scopes: ['ai.prediction.run', 'ai.training.analyze', 'ai.training.read'],
      roles: ['data-scientist'],
    });
  });

  it('answers without a token 401 pointing at the protected resource metadata, which names govauth', async () => {
    const res = await fetch(`${url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain(`resource_metadata="${kit.metadataUrl}"`);
    const meta = (await (await fetch(`${url}${kit.metadataPath}`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({ resource: API, authorization_servers: [g.t.issuer], resource_name: 'Model API (MCP)' });
  });

  it('answers 401 invalid_token for a forged token and 403 insufficient_scope for a missing scope', async () => {
    const forged = await fetch(`${url}/mcp`, { method: 'POST', headers: { authorization: 'Bearer abc.def.ghi', 'content-type': 'application/json' }, body: '{}' });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    const scope = await fetch(`${url}/mcp-deploy`, { method: 'POST', headers: { authorization: `Bearer ${await g.token()}`, 'content-type': 'application/json' }, body: '{}' });
    expect(scope.status).toBe(403);
    expect(scope.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="ai.deploy.manage"/);
  });
});

describe('with requireMcpAuth', () => {
  it('accepts a DPoP-bound token with openid-client’s proofs, which the SDK middleware cannot', async () => {
    const config = await discover(g.t, g.bot);
    const keys = await generateKeyPair('ES256');
    const dpop = oidc.getDPoPHandle(config, keys);
    const tokens = await oidc.clientCredentialsGrant(config, { resource: API }, { DPoP: dpop });
    // Every MCP request carries a fresh proof for its own method and URL.
    const dpopFetch: typeof fetch = async (input, init) => {
      const target = new URL(input instanceof Request ? input.url : String(input));
      const headers = new Headers(init?.headers);
      return oidc.fetchProtectedResource(config, tokens.access_token, target, init?.method ?? 'GET', init?.body as string | undefined, headers, { DPoP: dpop });
    };
    expect(await callWhoami('/mcp-dpop', dpopFetch)).toMatchObject({ clientId: g.bot.client_id });
    const viaSdk = await fetch(`${url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(viaSdk.status).toBe(401);
  });
});
