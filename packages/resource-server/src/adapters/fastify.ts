// Fastify 5, as a preHandler hook:
//
//   app.get(kit.metadataPath, metadataHandler(kit));
//   app.post('/predict', { preHandler: requireToken({ resourceServer: kit, scopes: ['ai.prediction.run'] }) }, async (request) => {
//     const token = tokenOf(request);
//   });
import type { FastifyReply, FastifyRequest } from 'fastify';
import { METADATA_HEADERS } from '../metadata.ts';
import type { ResourceServer, VerifiedToken } from '../resource-server.ts';
import { nodeFacts, prepare, trackUsage, type RequireTokenOptions } from './node-request.ts';

export type { RequireTokenOptions } from './node-request.ts';

// A WeakMap rather than a request decoration: no plugin registration, nothing to clean up.
const tokens = new WeakMap<FastifyRequest, VerifiedToken>();

export function requireToken(options: RequireTokenOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const { kit, route } = prepare(options);
  return async (request, reply) => {
    const facts = nodeFacts(request.raw, { body: request.body });
    const decision = await kit.authorize(facts, route);
    trackUsage(kit, route, decision, facts, reply.raw);
    if (!decision.ok) return reply.code(decision.refusal.status).headers(decision.refusal.headers).send(JSON.stringify(decision.refusal.body));
    tokens.set(request, decision.token);
    return undefined;
  };
}

/** The verified token of this request (set by requireToken). */
export function tokenOf(request: FastifyRequest): VerifiedToken {
  const token = tokens.get(request);
  if (!token) throw new TypeError('tokenOf: requireToken did not run for this route');
  return token;
}

/** A route handler for GET kit.metadataPath (RFC 9728 §3). */
export function metadataHandler(kit: ResourceServer): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  return async (_request, reply) => reply.headers(METADATA_HEADERS).send(JSON.stringify(kit.metadata()));
}
