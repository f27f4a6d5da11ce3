// The same small API on each framework, protected by the kit, on an ephemeral port: the adapter
// tests run one table of requests against all four.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import * as expressKit from '../../src/adapters/express.ts';
import * as fastifyKit from '../../src/adapters/fastify.ts';
import * as koaKit from '../../src/adapters/koa.ts';
import * as nodeKit from '../../src/adapters/node-http.ts';
import type { ResourceServer, VerifiedToken } from '../../src/index.ts';

export const FRAMEWORKS = ['express', 'koa', 'fastify', 'node'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

export interface App {
  readonly url: string;
  close(): Promise<void>;
}

/** What each protected route answers: the token as the handler sees it. */
const summary = (t: VerifiedToken): Record<string, unknown> => ({
  sub: t.subject,
  client_id: t.clientId,
  scopes: t.scopes,
  roles: t.roles,
  act: t.act ?? null,
  scheme: t.scheme,
  jti: t.jti,
});

// Routes: GET|POST /predict (ai.prediction.run), GET /deploy (ai.deploy.manage: the demo bot
// lacks it), GET /sensitive (introspect: true, when the kit has client credentials), and the metadata.
const ROUTES = { predict: ['ai.prediction.run'], deploy: ['ai.deploy.manage'] } as const;

function listen(server: Server): Promise<App> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

export async function startApp(framework: Framework, kit: ResourceServer, options: { sensitive?: boolean } = {}): Promise<App> {
  const predict = { resourceServer: kit, scopes: ROUTES.predict };
  const deploy = { resourceServer: kit, scopes: ROUTES.deploy };
  const sensitive = { resourceServer: kit, scopes: ROUTES.predict, introspect: true };
  switch (framework) {
    case 'express': {
      const app = express();
      app.use(express.json());
      app.use(expressKit.protectedResourceMetadata(kit));
      const handler: express.RequestHandler = (_req, res) => void res.json(summary(expressKit.tokenOf(res)));
      app.get('/predict', expressKit.requireToken(predict), handler);
      app.post('/predict', expressKit.requireToken(predict), handler);
      app.get('/deploy', expressKit.requireToken(deploy), handler);
      if (options.sensitive) app.get('/sensitive', expressKit.requireToken(sensitive), handler);
      return listen(createServer(app));
    }
    case 'koa': {
      const app = new Koa();
      const router = new Router();
      const handler: Koa.Middleware = (ctx) => void (ctx.body = summary(ctx.state.token as VerifiedToken));
      router.get('/predict', koaKit.requireToken(predict), handler);
      router.post('/predict', koaKit.requireToken(predict), handler);
      router.get('/deploy', koaKit.requireToken(deploy), handler);
      if (options.sensitive) router.get('/sensitive', koaKit.requireToken(sensitive), handler);
      app.use(koaKit.protectedResourceMetadata(kit));
      app.use(router.routes());
      return listen(createServer(app.callback()));
    }
    case 'fastify': {
      let server: Server | undefined;
      const app = Fastify({ serverFactory: (handler) => (server = createServer(handler)) });
      const handler = (request: Parameters<typeof fastifyKit.tokenOf>[0]) => Promise.resolve(summary(fastifyKit.tokenOf(request)));
      app.get(kit.metadataPath, fastifyKit.metadataHandler(kit));
      app.get('/predict', { preHandler: fastifyKit.requireToken(predict) }, handler);
      app.post('/predict', { preHandler: fastifyKit.requireToken(predict) }, handler);
      app.get('/deploy', { preHandler: fastifyKit.requireToken(deploy) }, handler);
      if (options.sensitive) app.get('/sensitive', { preHandler: fastifyKit.requireToken(sensitive) }, handler);
      await app.ready();
      return listen(server as unknown as Server);
    }
    case 'node': {
      const guards = { predict: nodeKit.requireToken(predict), deploy: nodeKit.requireToken(deploy), sensitive: nodeKit.requireToken(sensitive.introspect && options.sensitive ? sensitive : predict) };
      const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        if (nodeKit.serveMetadata(kit, req, res)) return;
        const path = (req.url ?? '').split('?')[0] ?? '';
        const guard = path === '/predict' ? guards.predict : path === '/deploy' ? guards.deploy : path === '/sensitive' && options.sensitive ? guards.sensitive : undefined;
        if (!guard) return void res.writeHead(404).end();
        // Like the frameworks, read the body before answering (a refusal mid-upload resets the socket).
        for await (const _chunk of req);
        const token = await guard(req, res);
        if (token) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(summary(token)));
      };
      return listen(createServer((req, res) => void handle(req, res)));
    }
  }
}
