// OpenTelemetry tracing over real HTTP and a real database: spans for the request, the token
// issuance (signing), the database statements and the audit group commit, in one trace, with
// the request id; a caller's traceparent continued; nothing when tracing is off; and the real
// OTLP/HTTP exporter delivering to a collector (a small HTTP receiver here).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { createTracing } from '../../src/tracing/create-tracing.ts';
import { NO_TRACING } from '../../src/tracing/tracing.ts';
import { decodeJwt, tokenRequest, waitFor, type ClientCreds } from '../helpers/oauth.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const API = 'https://models.example';
const exporter = new InMemorySpanExporter();
const tracing = createTracing(loadConfig({}).tracing, { exporter });
let t: TestServer;
let bot: ClientCreds;

beforeAll(async () => {
  t = await startTestServer({ tracing });
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'traced-bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  await t.server.policy.sync();
});
afterAll(async () => {
  await t?.stop();
  await tracing.shutdown();
});

const serverSpanOf = async (requestId: string): Promise<ReadableSpan> =>
  (
    await waitFor(() => Promise.resolve(exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER && s.attributes['govauth.request_id'] === requestId)), 2000)
  ).value;
const inTrace = (traceId: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
const parentId = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

describe('tracing with an exporter', () => {
  it('traces a token request: server span with the request id; issuance, database and audit commit spans in its trace', async () => {
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: bot });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id') ?? '';
    const server = await serverSpanOf(requestId);
    expect(server.name).toBe('POST /token');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/token',
      'http.response.status_code': 200,
      'govauth.request_id': requestId,
      'govauth.client_id': bot.client_id,
    });
    expect(server.parentSpanContext).toBeUndefined(); // no traceparent sent: a new trace

    const spans = inTrace(server.spanContext().traceId);
    const issue = spans.find((s) => s.name === 'oidc.token.issue');
    expect(issue && parentId(issue)).toBe(server.spanContext().spanId);
    // Signed with the key the span names.
    expect(issue?.attributes).toMatchObject({ 'oauth.grant_type': 'client_credentials', 'govauth.signing_kid': decodeJwt(String(res.body.access_token)).header.kid });

    // Database work on the request path: the client's token rate limit, read inside issuance.
    expect(spans.filter((s) => s.kind === SpanKind.CLIENT && parentId(s) === issue?.spanContext().spanId).map((s) => s.attributes['db.query.text'])).toContainEqual(
      expect.stringContaining('"RateLimitCounter"'),
    );

    const commit = spans.find((s) => s.name === 'govauth.audit.commit');
    expect(commit && parentId(commit)).toBe(server.spanContext().spanId);
    expect(commit?.attributes['govauth.audit.batch_size']).toBeGreaterThanOrEqual(1);
    // The batch's SQL runs inside the commit span: a transaction with the INSERT of the record.
    const tx = spans.find((s) => s.name === 'transaction' && parentId(s) === commit?.spanContext().spanId);
    expect(tx?.attributes['db.system.name']).toBe(t.server.db.kind);
    // (On PostgreSQL the insert is the data-modifying WITH of audit-chain.ts, named WITH.)
    const statements = spans.filter((s) => parentId(s) === tx?.spanContext().spanId).map((s) => `${s.name}: ${String(s.attributes['db.query.text'])}`);
    expect(statements).toContainEqual(expect.stringMatching(/^(INSERT|WITH): (WITH "appended" AS \()?INSERT INTO "AuditEvent"/));

    // Nothing secret on any span: not the client secret, not the token issued.
    const everything = JSON.stringify(spans.map((s) => [s.name, s.attributes, s.status, s.events]));
    expect(everything).not.toContain(bot.client_secret);
    expect(everything).not.toContain(String(res.body.access_token));
  });

  it('continues the trace of an incoming W3C traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    // The previous test's token left background work (the suspicious-use check records the
    // client's first network): settled and written, so this request's record starts its own
    // audit batch, whose commit span belongs to this trace (a record that joins a batch already
    // being committed is committed in that batch's span).
    await t.server.suspiciousUse.settled();
    await t.server.audit.flush();
    const res = await fetch(`${t.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', traceparent: `00-${traceId}-${callerSpan}-01`, tracestate: 'vendor=opaque' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: API, client_id: bot.client_id, client_secret: bot.client_secret }),
    });
    expect(res.status).toBe(200);
    const server = await serverSpanOf(res.headers.get('x-request-id') ?? '');
    expect(server.spanContext().traceId).toBe(traceId);
    expect(parentId(server)).toBe(callerSpan);
    expect(server.spanContext().traceState?.get('vendor')).toBe('opaque');
    expect(inTrace(traceId).some((s) => s.name === 'govauth.audit.commit')).toBe(true);
  });

  it('starts a new trace for a malformed or all-zero traceparent', async () => {
    for (const traceparent of [`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, 'not-a-traceparent', `ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`]) {
      const res = await fetch(`${t.url}/jwks`, { headers: { traceparent } });
      const server = await serverSpanOf(res.headers.get('x-request-id') ?? '');
      expect(server.parentSpanContext, traceparent).toBeUndefined();
      expect(server.name).toBe('GET /jwks');
    }
  });

  it('marks a refused token request on its spans without the presented secret', async () => {
    const wrong = { client_id: bot.client_id, client_secret: 'wrong-secret-value-1234567890' };
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: wrong });
    expect(res.status).toBe(401);
    const server = await serverSpanOf(res.headers.get('x-request-id') ?? '');
    expect(server.attributes['http.response.status_code']).toBe(401);
    expect(server.status.code).not.toBe(SpanStatusCode.ERROR); // the caller's error, not the server's
    const spans = inTrace(server.spanContext().traceId);
    expect(spans.find((s) => s.name === 'oidc.token.issue')?.attributes['oauth.error']).toBe('invalid_client');
    expect(JSON.stringify(spans.map((s) => [s.attributes, s.status]))).not.toContain(wrong.client_secret);
  });

  it('traces an admin write: its Prisma transaction inside the request, the new secret nowhere', async () => {
    const { adminBot } = await createAdminBots(t);
    const target = await t.cliJson<ClientCreds>('client', 'create', '--name', 'rotated-bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
    const token = await tokenFor(t.url, adminBot);
    const res = await callAdmin<{ client_secret: string }>(t.url, token, 'POST', `/clients/${encodeURIComponent(target.client_id)}/rotate-secret`);
    expect(res.status).toBe(200);
    const server = await serverSpanOf(res.headers.get('x-request-id') ?? '');
    expect(server.name).toBe('POST /admin/v1/clients/{id}/rotate-secret');
    const spans = inTrace(server.spanContext().traceId);
    const tx = spans.find((s) => s.name === 'transaction' && parentId(s) === server.spanContext().spanId);
    expect(tx?.attributes).toMatchObject({ 'db.system.name': t.server.db.kind, 'db.operation.name': 'transaction' });
    expect(JSON.stringify(spans.map((s) => [s.attributes, s.status]))).not.toContain(res.body.client_secret);
  });

  it('leaves health checks out', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    const probe = await fetch(`${t.url}/jwks`); // traced after it: the exporter has caught up
    await serverSpanOf(probe.headers.get('x-request-id') ?? '');
    expect(exporter.getFinishedSpans().some((s) => s.attributes['govauth.request_id'] === res.headers.get('x-request-id'))).toBe(false);
  });

  it('names admin API spans by their route template, not the path', async () => {
    const res = await fetch(`${t.url}/admin/v1/clients/${encodeURIComponent(bot.client_id)}`);
    const server = await serverSpanOf(res.headers.get('x-request-id') ?? '');
    expect(server.name).toBe('GET /admin/v1/clients/{id}');
    expect(server.name).not.toContain(bot.client_id);
  });
});

describe('tracing off (no OTLP endpoint)', () => {
  let plain: TestServer;
  beforeAll(async () => {
    plain = await startTestServer();
  });
  afterAll(() => plain?.stop());

  it('creates no provider, registers nothing global and adds no middleware', async () => {
    expect(plain.server.tracing).toBe(NO_TRACING);
    expect(createTracing(loadConfig({ OTEL_SERVICE_NAME: 'x' }).tracing)).toBe(NO_TRACING);
    expect(createTracing(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }).tracing)).toBe(NO_TRACING);
    // The traced server has exactly one more Koa middleware: the request span.
    expect(t.server.app.koa.middleware.length - plain.server.app.koa.middleware.length).toBe(1);
    // No global tracer provider: the API still hands out its non-recording tracer.
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
    const res = await fetch(`${plain.url}/healthz`);
    expect(res.status).toBe(200);
  });
});

describe('OTLP/HTTP export', () => {
  let receiver: Server;
  const received: { path: string; type: string; body: string }[] = [];
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  it('sends spans to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces, flushed at shutdown', async () => {
    const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const traced = await startTestServer({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'govauth-test' } });
    let requestId: string;
    try {
      expect(traced.server.tracing.enabled).toBe(true);
      const res = await fetch(`${traced.url}/jwks`);
      requestId = res.headers.get('x-request-id') ?? '';
    } finally {
      await traced.stop(); // the batch processor's delay is 5 s: only the shutdown flush delivers it this soon
    }
    const exported = received.filter((r) => r.path === '/v1/traces');
    expect(exported.length).toBeGreaterThan(0);
    expect(exported[0]?.type).toMatch(/^application\/json/);
    const body = exported.map((r) => r.body).join('\n');
    expect(body).toContain('"govauth-test"'); // service.name resource attribute
    expect(body).toContain('"GET /jwks"');
    expect(body).toContain(requestId);
  });
});
