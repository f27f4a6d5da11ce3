// What every adapter shares: the request facts from node's IncomingMessage (Express, Koa and
// Fastify all sit on one), the refusal written to a ServerResponse, usage reported once the
// response is done, and the metadata route.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Refusal } from '../errors.ts';
import type { RouteOptions, ResourceServerOptions } from '../options.ts';
import type { RequestFacts } from '../request.ts';
import { createResourceServer, type Decision, type ResourceServer, type Route } from '../resource-server.ts';

/** A route's requirements, with either a shared resource server or the options to make one. */
export type RequireTokenOptions = RouteOptions & ({ readonly resourceServer: ResourceServer } | ResourceServerOptions);

export function prepare(options: RequireTokenOptions): { kit: ResourceServer; route: Route } {
  const kit = 'resourceServer' in options ? options.resourceServer : createResourceServer(options);
  return { kit, route: kit.route(options) };
}

const hasBodyToken = (body: unknown): boolean => typeof body === 'object' && body !== null && Object.hasOwn(body, 'access_token');

export function nodeFacts(req: IncomingMessage, options: { readonly url?: string; readonly body?: unknown } = {}): RequestFacts {
  const socket = req.socket as Partial<TLSSocket> | undefined;
  return {
    method: req.method ?? 'GET',
    url: options.url ?? req.url ?? '/',
    headers: req.headersDistinct,
    tls: socket?.encrypted === true,
    bodyToken: hasBodyToken(options.body),
    peerCertificate: () => {
      const raw = socket?.getPeerCertificate?.()?.raw;
      return raw?.length ? raw : undefined;
    },
  };
}

export function writeRefusal(res: ServerResponse, refusal: Refusal): void {
  res.statusCode = refusal.status;
  for (const [name, value] of Object.entries(refusal.headers)) res.setHeader(name, value);
  res.end(JSON.stringify(refusal.body));
}

/** Reports the decision with the status the response ended with (the handler's, when allowed). */
export function trackUsage(kit: ResourceServer, route: Route, decision: Decision, facts: RequestFacts, res: ServerResponse): void {
  if (kit.reportsUsage) res.once('close', () => kit.recordUsage(decision, route, facts, res.statusCode));
}

export function isMetadataRequest(kit: ResourceServer, method: string | undefined, url: string | undefined): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const target = url ?? '';
  const q = target.indexOf('?');
  return (q === -1 ? target : target.slice(0, q)) === kit.metadataPath;
}
