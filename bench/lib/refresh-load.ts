// Refresh-token load with rotation, as a real app does (a used token is dead): a request takes
// a token from the pool and its response puts the rotated one back, so every token is in
// flight at most once. (autocannon resets per-connection context after every request when
// there is one request template, so the pool is shared instead.)
import autocannon from 'autocannon';
import * as oidc from 'openid-client';
import { headlessSignIn } from '../../test/helpers/headless-sign-in.ts';
import { BENCH_PERSON } from './govauth-fixture.ts';
import type { LoadResult } from './load.ts';

export async function refreshTokenPool(issuer: string, app: { client_id: string; client_secret: string }, count: number): Promise<string[]> {
  const config = await oidc.discovery(new URL(issuer), app.client_id, app.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  const pool: string[] = [];
  for (let i = 0; i < count; i++) {
    const tokens = await headlessSignIn(config, BENCH_PERSON.email, 'openid offline_access ai.training.read', { password: BENCH_PERSON.password, extra: { prompt: 'consent' } });
    if (!tokens.refresh_token) throw new Error('no refresh token');
    pool.push(tokens.refresh_token);
  }
  return pool;
}

/** Runs the load; `pool` is refilled with each connection's latest token for the next run. */
export async function refreshLoad(name: string, url: string, app: { client_id: string; client_secret: string }, pool: string[], durationSec: number): Promise<LoadResult> {
  const authorization = `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`;
  const tokens = pool.splice(0, pool.length);
  const connections = tokens.length;
  const result = await autocannon({
    url,
    connections,
    duration: durationSec,
    requests: [
      {
        method: 'POST',
        path: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
        setupRequest: (req) => ({ ...req, body: `grant_type=refresh_token&refresh_token=${tokens.shift() ?? 'pool-empty'}` }),
        onResponse: (status: number, body: string) => {
          if (status === 200) tokens.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
        },
      },
    ],
  });
  pool.push(...tokens);
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
