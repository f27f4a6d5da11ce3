// Malformed, oversized and unexpected requests get a standard OAuth error and a 4xx: never a
// 500, never a stack trace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, type ClientCreds } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let bot: ClientCreds;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'end-user');
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

async function post(body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; text: string; json: Record<string, unknown> | undefined }> {
  const res = await fetch(`${t.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(bot), ...headers },
    body,
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

const noLeak = (text: string): void => {
  expect(text).not.toMatch(/at .*\.(js|ts):\d+|node_modules|Error:/);
};

describe('token endpoint input handling', () => {
  it('rejects an oversized body with 413 before reading it', async () => {
    const r = await post(Buffer.alloc(64 * 1024, 'a'));
    expect(r.status).toBe(413);
    expect(r.json?.error).toBe('invalid_request');
  });

  it('rejects unknown and missing grant types', async () => {
    const unknown = await post('grant_type=password&username=a&password=b');
    expect(unknown.status).toBe(400);
    expect(unknown.json?.error).toBe('unsupported_grant_type');
    const missing = await post('scope=x');
    expect(missing.status).toBe(400);
    expect(missing.json?.error).toBe('invalid_request');
  });

  it('rejects duplicated parameters', async () => {
    for (const body of ['grant_type=client_credentials&grant_type=client_credentials', 'grant_type=client_credentials&scope=a&scope=b']) {
      const r = await post(body);
      expect(r.status, body).toBe(400);
      expect(r.json?.error).toBe('invalid_request');
    }
  });

  it('rejects malformed bodies, wrong content types and bad encodings', async () => {
    for (const [body, headers] of [
      ['%%%', {}],
      ['{"grant_type":"client_credentials"}', { 'content-type': 'application/json' }],
      ['grant_type=client_credentials', { 'content-type': 'text/plain' }],
      ['grant_type=client_credentials', { authorization: 'Basic !!!' }],
      ['grant_type=client_credentials', { authorization: 'Bearer abc' }],
      ['grant_type=client_credentials&scope=%00%01', {}],
      ['grant_type=client_credentials&resource=%F0%9F%92%A5', {}],
    ] as const) {
      const r = await post(body, headers);
      expect(r.status, `${body} ${JSON.stringify(headers)}`).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(typeof r.json?.error).toBe('string');
      noLeak(r.text);
    }
  });

  it('answers GET /token and unknown routes with JSON errors', async () => {
    const get = await fetch(`${t.url}/token`);
    expect(get.status).toBeGreaterThanOrEqual(400);
    expect(get.status).toBeLessThan(500);
    const missing = await fetch(`${t.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
  });

  it('sets protective headers on every response', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });
});
