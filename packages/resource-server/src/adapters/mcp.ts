// MCP servers on the official SDK (@modelcontextprotocol/sdk).
//
// With the SDK's own bearer middleware (Bearer tokens only; it never sees a DPoP proof or the
// TLS connection, so tokens bound to a key or a certificate are refused):
//
//   app.post('/mcp', requireBearerAuth({ verifier: createTokenVerifier({ resourceServer: kit }),
//     requiredScopes: ['ai.prediction.run'], resourceMetadataUrl: kit.metadataUrl }), handler);
//
// Or with this kit's middleware, which accepts DPoP and certificate-bound tokens as well and
// sets req.auth for the SDK's transports (StreamableHTTPServerTransport reads it):
//
//   app.post('/mcp', requireMcpAuth({ resourceServer: kit, scopes: ['ai.prediction.run'] }), handler);
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InsufficientScopeError, InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { VerifiedToken } from '../resource-server.ts';
import { nodeFacts, prepare, trackUsage, writeRefusal, type RequireTokenOptions } from './node-request.ts';

export type { RequireTokenOptions } from './node-request.ts';

/** The SDK's AuthInfo; the verified claims are in `extra`. */
export function toAuthInfo(token: VerifiedToken, resource: string): AuthInfo {
  return {
    token: token.token,
    clientId: token.clientId,
    scopes: [...token.scopes],
    expiresAt: token.expiresAt,
    resource: new URL(resource),
    extra: { subject: token.subject, roles: token.roles, act: token.act, mayAct: token.mayAct, jti: token.jti, cnf: token.cnf, claims: token.claims },
  };
}

/** An OAuthTokenVerifier for the SDK's requireBearerAuth. */
export function createTokenVerifier(options: RequireTokenOptions): OAuthTokenVerifier {
  const { kit, route } = prepare(options);
  return {
    async verifyAccessToken(token) {
      const decision = await kit.verify(token, route);
      kit.recordUsage(decision, route, { method: 'POST', url: route.name ?? 'mcp' }, decision.ok ? 200 : decision.refusal.status);
      if (decision.ok) return toAuthInfo(decision.token, kit.resource);
      const { error, description } = decision.refusal;
      if (error === 'insufficient_scope') throw new InsufficientScopeError(description);
      if (error === 'temporarily_unavailable' || error === 'server_error') throw new ServerError(description);
      throw new InvalidTokenError(description);
    },
  };
}

type McpRequest = IncomingMessage & { auth?: AuthInfo; body?: unknown; originalUrl?: string };

/** Connect-style middleware (Express, or node:http with a next callback) that sets req.auth. */
export function requireMcpAuth(options: RequireTokenOptions): (req: McpRequest, res: ServerResponse, next: (error?: unknown) => void) => void {
  const { kit, route } = prepare(options);
  return (req, res, next) => {
    const facts = nodeFacts(req, { url: req.originalUrl, body: req.body });
    kit.authorize(facts, route).then((decision) => {
      trackUsage(kit, route, decision, facts, res);
      if (!decision.ok) return writeRefusal(res, decision.refusal);
      req.auth = toAuthInfo(decision.token, kit.resource);
      next();
    }, next);
  };
}
