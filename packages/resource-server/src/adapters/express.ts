// Express (4 and 5):
//
//   app.use(protectedResourceMetadata(kit));
//   app.post('/predict', requireToken({ resourceServer: kit, scopes: ['ai.prediction.run'] }), (req, res) => {
//     const token = tokenOf(res);   // res.locals.token
//   });
import type { RequestHandler, Response } from 'express';
import { METADATA_HEADERS } from '../metadata.ts';
import type { ResourceServer, VerifiedToken } from '../resource-server.ts';
import { isMetadataRequest, nodeFacts, prepare, trackUsage, writeRefusal, type RequireTokenOptions } from './node-request.ts';

export type { RequireTokenOptions } from './node-request.ts';

export function requireToken(options: RequireTokenOptions): RequestHandler {
  const { kit, route } = prepare(options);
  return (req, res, next) => {
    // originalUrl: req.url is rewritten under a mounted router, and DPoP's htu is the full path.
    const facts = nodeFacts(req, { url: req.originalUrl, body: req.body as unknown });
    kit.authorize(facts, route).then((decision) => {
      trackUsage(kit, route, decision, facts, res);
      if (!decision.ok) return writeRefusal(res, decision.refusal);
      res.locals.token = decision.token;
      next();
    }, next);
  };
}

/** The verified token of this request (set by requireToken). */
export function tokenOf(res: Response): VerifiedToken {
  const token = res.locals.token as VerifiedToken | undefined;
  if (!token) throw new TypeError('tokenOf: requireToken did not run for this route');
  return token;
}

/** Serves the protected resource metadata (RFC 9728 §3) at the resource server's metadata path. */
export function protectedResourceMetadata(kit: ResourceServer): RequestHandler {
  return (req, res, next) => {
    if (!isMetadataRequest(kit, req.method, req.originalUrl)) return next();
    res.set(METADATA_HEADERS).status(200);
    if (req.method === 'HEAD') return void res.end();
    res.end(JSON.stringify(kit.metadata()));
  };
}
