// Refresh-token load: every autocannon connection holds its own refresh token and replaces it
// with the rotated one from each response, as a real app does (a used token is dead).
import autocannon from 'autocannon';
import * as oidc from 'openid-client';
import { headlessSignIn } from '../../test/helpers/headless-sign-in.ts';
import type { LoadResult } from './load.ts';

export async function refreshTokenPool(issuer: string, app: { client_id: string; client_secret: string }, count: number): Promise<string[]> {
  const config = await oidc.discovery(new URL(issuer), app.client_id, app.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  const pool: string[] = [];
  for (let i = 0; i < count; i++) {
    const tokens = await headlessSignIn(config, 'bench@example.com', 'openid offline_access ai.training.read', { password: 'bench password 123', extra: { prompt: 'consent' } });
    if (!tokens.refresh_token) throw new Error('no refresh token');
    pool.push(tokens.refresh_token);
  }
  return pool;
}

export async function refreshLoad(name: string, url: string, app: { client_id: string; client_secret: string }, pool: string[], durationSec: number): Promise<LoadResult> {
  const authorization = `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`;
  const tokens = [...pool];
  const result = await autocannon({
    url,
    connections: pool.length,
    duration: durationSec,
    requests: [
      {
        method: 'POST',
        path: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
        setupRequest: (req, context: object) => {
          const c = context as { rt?: string };
          c.rt ??= tokens.pop() ?? '';
          return { ...req, body: `grant_type=refresh_token&refresh_token=${c.rt}` };
        },
        onResponse: (status: number, body: string, context: object) => {
          if (status === 200) (context as { rt?: string }).rt = (JSON.parse(body) as { refresh_token: string }).refresh_token;
        },
      },
    ],
  });
  return {
    name,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
