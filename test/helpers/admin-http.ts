// Calling the admin API the way an operations bot does: a client holding govauth-admin (or
// govauth-auditor) gets a client_credentials token for urn:govauth:admin and sends it as a
// bearer token. Every successful response is parsed with its route's declared (strict) response
// schema, so the OpenAPI document describes what is actually served.
import { createRouter } from '../../src/admin/router.ts';
import { ADMIN_ROUTES } from '../../src/admin/routes.ts';
import { tokenRequest, type ClientCreds } from './oauth.ts';
import type { TestServer } from './test-server.ts';

export const ADMIN = 'urn:govauth:admin';
const match = createRouter(ADMIN_ROUTES);

export interface Answer<B> {
  status: number;
  headers: Headers;
  body: B;
}

export interface CallOptions {
  readonly headers?: Record<string, string>;
  /** Sent as is instead of `body` as JSON. */
  readonly raw?: RequestInit['body'];
}

export async function callAdmin<B>(baseUrl: string, token: string | undefined, method: string, path: string, body?: unknown, init: CallOptions = {}): Promise<Answer<B>> {
  const res = await fetch(`${baseUrl}/admin/v1${path}`, {
    method,
    headers: { ...(token !== undefined && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }), ...init.headers },
    body: init.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  const json = (text ? JSON.parse(text) : {}) as B;
  if (res.ok && method !== 'HEAD') {
    const m = match(method, new URL(res.url).pathname);
    if (m.kind !== 'route') throw new Error(`no route matched ${method} ${path}`);
    m.route.response.parse(json); // throws on any field the schema does not declare, or lacks
  }
  return { status: res.status, headers: res.headers, body: json };
}

export async function tokenFor(baseUrl: string, creds: ClientCreds, resource = ADMIN): Promise<string> {
  const res = await tokenRequest(baseUrl, { grant_type: 'client_credentials', resource }, { basic: creds });
  if (res.status !== 200) throw new Error(`token request failed: ${JSON.stringify(res.body)}`);
  return String(res.body.access_token);
}

/** Registers ops-bot (govauth-admin) and audit-bot (govauth-auditor) through the CLI. */
export async function createAdminBots(t: TestServer): Promise<{ adminBot: ClientCreds; auditorBot: ClientCreds }> {
  const adminBot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'ops-bot', '--grant', 'client_credentials', '--roles', 'govauth-admin', '--admin-access');
  const auditorBot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'audit-bot', '--grant', 'client_credentials', '--roles', 'govauth-auditor', '--admin-access');
  await t.server.policy.sync();
  return { adminBot, auditorBot };
}
