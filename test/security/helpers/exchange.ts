// Token exchange (RFC 8693) requests for the refusal suites: as a real agent sends them
// (openid-client genericGrantRequest) and raw (repeated or missing parameters, no or wrong
// client authentication), and the one shape every refusal must have.
import * as oidc from 'openid-client';
import { expect } from 'vitest';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE } from '../../helpers/agents.ts';
import { basic, type ClientCreds } from '../../helpers/oauth.ts';
import { API } from '../../helpers/people.ts';

export interface Refusal {
  readonly status: number;
  readonly error: unknown;
  readonly description: unknown;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

/** A token exchange as an agent sends it: the subject token for API unless `extra` says otherwise. */
export const exchange = (config: oidc.Configuration, subject: string, extra: Record<string, string> = {}, options?: oidc.DPoPOptions) =>
  oidc.genericGrantRequest(config, TOKEN_EXCHANGE, { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: API, ...extra }, options);

/** The refusal an openid-client call ended with (it must not succeed). */
export async function refusalOf(request: Promise<unknown>): Promise<Refusal> {
  try {
    await request;
  } catch (err) {
    if (!(err instanceof oidc.ResponseBodyError)) throw err;
    const body = err.cause as Record<string, unknown>;
    return { status: err.status, error: body.error, description: body.error_description, body, headers: err.response.headers };
  }
  throw new Error('the exchange succeeded');
}

/**
 * A raw token request (grant_type token-exchange unless `params` names another); a parameter
 * given as an array is sent once per value. `auth` undefined: no client authentication.
 */
export async function postExchange(url: string, auth: ClientCreds | undefined, params: Record<string, string | readonly string[]>, headers: Record<string, string> = {}): Promise<Refusal> {
  const form = new URLSearchParams({ grant_type: TOKEN_EXCHANGE });
  for (const [k, v] of Object.entries(params)) {
    form.delete(k);
    for (const x of typeof v === 'string' ? [v] : v) form.append(k, x);
  }
  const res = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth && { authorization: basic(auth) }), ...headers },
    body: form,
  });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
  return { status: res.status, error: body.error, description: body.error_description, body, headers: res.headers };
}

/**
 * RFC 6749 §5.2 / RFC 8693 §2.2.2: the status, the error code, a description that says what
 * is wrong, JSON, never cached, never a server error or a stack trace.
 */
export function expectRefusal(r: Refusal, error: string, description: RegExp, status = error === 'invalid_client' ? 401 : 400): void {
  expect({ status: r.status, error: r.error }, String(r.description)).toEqual({ status, error });
  expect(r.description).toEqual(expect.any(String));
  expect(r.description).toMatch(description);
  expect(r.body.access_token).toBeUndefined();
  expect(JSON.stringify(r.body)).not.toMatch(/ at .*\.(ts|js):\d+|node_modules/);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  expect(r.headers.get('cache-control')).toMatch(/no-store/);
}
