// An MCP server as its authors would put it behind govauth: the official SDK's Streamable HTTP
// transport, its bearer-auth middleware verifying govauth tokens with the resource-server kit,
// and RFC 9728 protected-resource metadata naming govauth. And an MCP client's OAuth side: the
// SDK's OAuthClientProvider, kept in memory, whose "browser" is the headless sign-in walker.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { auth, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import express from 'express';
import { createTokenVerifier } from '../../packages/resource-server/src/adapters/mcp.ts';
import { protectedResourceMetadata } from '../../packages/resource-server/src/adapters/express.ts';
import { createResourceServer } from '../../packages/resource-server/src/index.ts';
import type { Answer } from './sign-in-steps.ts';
import { SignInSteps } from './sign-in-steps.ts';

export interface McpFixture {
  /** The MCP endpoint (Streamable HTTP). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * An MCP server with one tool, `whoami`, needing `scopes`. Its resource identifier is its own
 * URL (the MCP client checks that the metadata names the server it called, RFC 9728 §3.3);
 * `register` puts that audience in govauth's catalogue before the server serves.
 */
export async function startMcpServer(issuer: string, scopes: string[], register: (audience: string) => Promise<void>): Promise<McpFixture> {
  const app = express();
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  await register(url);
  const kit = createResourceServer({ issuer, audience: url, resourceName: 'Models (MCP)', scopesSupported: scopes });
  app.use(express.json());
  app.use(protectedResourceMetadata(kit));
  app.post('/mcp', requireBearerAuth({ verifier: createTokenVerifier({ resourceServer: kit, scopes }), requiredScopes: scopes, resourceMetadataUrl: kit.metadataUrl }), async (req, res) => {
    const mcp = new McpServer({ name: 'models', version: '1.0.0' });
    mcp.registerTool('whoami', { description: 'Who is calling, with which scopes' }, (extra) => ({
      content: [{ type: 'text', text: JSON.stringify({ clientId: extra.authInfo?.clientId, scopes: extra.authInfo?.scopes, subject: extra.authInfo?.extra?.subject }) }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close());
    await mcp.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  return {
    url,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The SDK's OAuthClientProvider, in memory; the authorization URL it is sent to is kept for the walker. */
export class MemoryOAuthProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  readonly clientMetadataUrl: string | undefined;
  readonly #metadata: OAuthClientMetadata;
  constructor(metadata: OAuthClientMetadata, clientMetadataUrl?: string) {
    this.#metadata = metadata;
    this.clientMetadataUrl = clientMetadataUrl;
  }
  get redirectUrl(): string {
    return this.#metadata.redirect_uris[0] ?? '';
  }
  get clientMetadata(): OAuthClientMetadata {
    return this.#metadata;
  }
  clientInformation = (): OAuthClientInformationMixed | undefined => this.info;
  saveClientInformation = (info: OAuthClientInformationMixed): void => void (this.info = info);
  tokens = (): OAuthTokens | undefined => this.saved;
  saveTokens = (tokens: OAuthTokens): void => void (this.saved = tokens);
  redirectToAuthorization = (url: URL): void => void (this.authorizationUrl = url);
  saveCodeVerifier = (v: string): void => void (this.verifier = v);
  codeVerifier = (): string => this.verifier;
}

/**
 * What an MCP client does when the server answers 401: discovery from the server's metadata,
 * registration or a metadata document client_id, the person's sign-in (here `answer`, walked
 * over HTTP), the code exchange for the server's resource. Returns the tokens.
 */
export async function authorizeMcpClient(provider: MemoryOAuthProvider, serverUrl: string, answer: Answer, scope?: string): Promise<OAuthTokens> {
  const first = await auth(provider, { serverUrl, ...(scope && { scope }) });
  if (first !== 'REDIRECT' || !provider.authorizationUrl) throw new Error(`expected a redirect to sign in, got ${first}`);
  const callback = await new SignInSteps({ forwardedFor: null }).walk(provider.authorizationUrl.href, provider.redirectUrl, answer);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callback.href}`);
  if ((await auth(provider, { serverUrl, authorizationCode: code })) !== 'AUTHORIZED' || !provider.saved) throw new Error('the code exchange failed');
  return provider.saved;
}

/** Connects with the provider's tokens and calls `whoami`. */
export async function callWhoami(serverUrl: string, provider: MemoryOAuthProvider): Promise<{ clientId: string; scopes: string[]; subject: string }> {
  const client = new Client({ name: 'mcp-test-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider }));
  try {
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    return JSON.parse((result.content as { text: string }[])[0]?.text ?? '{}') as { clientId: string; scopes: string[]; subject: string };
  } finally {
    await client.close();
  }
}
