// The audit record of a refused token request carries the error the client received: the
// trail is what an operator reads to understand a client's failures, so it must not say
// `invalid_request` where the client was told `unauthorized_client` (RFC 6749 §5.2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, type ClientCreds } from '../helpers/oauth.ts';
import { API, createWebApp } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let bot: ClientCreds;
let web: ClientCreds;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  web = (await createWebApp(t)) as ClientCreds;
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

/** A raw token request; returns the response's status and error, and its audit record's. */
async function refusal(params: Record<string, string>, auth?: ClientCreds) {
  const res = await fetch(`${t.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth && { authorization: basic(auth) }) },
    body: new URLSearchParams(params),
  });
  const body = (await res.json()) as { error?: string };
  const requestId = res.headers.get('x-request-id') ?? '';
  await t.server.audit.flush();
  const rows = await t.server.db.prisma.auditEvent.findMany({ where: { requestId } });
  expect(rows).toHaveLength(1);
  const [row] = rows;
  return {
    response: { status: res.status, error: body.error },
    record: { action: row?.action, error: (JSON.parse(row?.detail ?? '{}') as { error?: string }).error },
  };
}

describe('a refused token request is recorded with the error the client received', () => {
  const cases: [string, () => [Record<string, string>, ClientCreds | undefined], number][] = [
    ['unauthorized_client', () => [{ grant_type: 'client_credentials', resource: API }, web], 400],
    ['invalid_grant', () => [{ grant_type: 'authorization_code', code: 'not-a-code', redirect_uri: 'https://app.example/callback', code_verifier: 'x'.repeat(43) }, web], 400],
    ['invalid_scope', () => [{ grant_type: 'client_credentials', resource: API, scope: 'no.such.scope' }, bot], 400],
    ['invalid_target', () => [{ grant_type: 'client_credentials', resource: 'https://unknown.example' }, bot], 400],
    ['invalid_client', () => [{ grant_type: 'client_credentials', resource: API }, { ...bot, client_secret: 'wrong' }], 401],
    ['invalid_client', () => [{ grant_type: 'client_credentials', resource: API }, undefined], 401], // no client authentication at all
  ];
  for (const [error, request, status] of cases) {
    it(`${error} (${status})`, async () => {
      const [params, auth] = request();
      const { response, record } = await refusal(params, auth);
      expect(response).toEqual({ status, error });
      expect(record).toEqual({ action: 'token.refused', error });
    });
  }
});
