// Plain node:http (and anything handing over IncomingMessage/ServerResponse):
//
//   const guard = requireToken({ issuer, audience, scopes: ['ai.prediction.run'] });
//   http.createServer(async (req, res) => {
//     if (serveMetadata(guard.resourceServer, req, res)) return;
//     const token = await guard(req, res);   // undefined: the refusal has been written
//     if (!token) return;
//     …
//   });
import type { IncomingMessage, ServerResponse } from 'node:http';
import { METADATA_HEADERS } from '../metadata.ts';
import type { ResourceServer, VerifiedToken } from '../resource-server.ts';
import { isMetadataRequest, nodeFacts, prepare, trackUsage, writeRefusal, type RequireTokenOptions } from './node-request.ts';

export type { RequireTokenOptions } from './node-request.ts';

export interface NodeGuard {
  (req: IncomingMessage, res: ServerResponse): Promise<VerifiedToken | undefined>;
  readonly resourceServer: ResourceServer;
}

export function requireToken(options: RequireTokenOptions): NodeGuard {
  const { kit, route } = prepare(options);
  const guard = async (req: IncomingMessage, res: ServerResponse): Promise<VerifiedToken | undefined> => {
    const facts = nodeFacts(req);
    const decision = await kit.authorize(facts, route);
    trackUsage(kit, route, decision, facts, res);
    if (decision.ok) return decision.token;
    writeRefusal(res, decision.refusal);
    return undefined;
  };
  return Object.assign(guard, { resourceServer: kit });
}

/** Answers GET <metadataPath> (RFC 9728 §3) and returns true; false for any other request. */
export function serveMetadata(kit: ResourceServer, req: IncomingMessage, res: ServerResponse): boolean {
  if (!isMetadataRequest(kit, req.method, req.url)) return false;
  res.writeHead(200, METADATA_HEADERS);
  res.end(req.method === 'HEAD' ? undefined : JSON.stringify(kit.metadata()));
  return true;
}
