// GET /.well-known/govauth-audit-keys: the audit public keys (a JWKS, RFC 7517 §5) that verify
// signed audit checkpoints (src/audit/audit-checkpoint.ts). A well-known URI of its own (RFC 8615)
// rather than a member of /jwks: /jwks is what resource servers trust for tokens, and a key that
// signs checkpoints must never verify a token. Public like /jwks, so a third party can fetch and
// pin it; unauthenticated, so it is cached here for a minute (one database read per minute).
import type { Middleware } from 'koa';
import type { JWK } from 'jose';
import type { Clock } from '../time/clock.ts';

const AUDIT_KEYS_PATH = '/.well-known/govauth-audit-keys';
const CACHE_MS = 60_000;

export function auditKeysRoute(load: () => Promise<JWK[]>, now: Clock): Middleware {
  let cached: { keys: JWK[]; at: number } | undefined;
  return async (ctx, next) => {
    if (ctx.path !== AUDIT_KEYS_PATH || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) {
      await next();
      return;
    }
    if (!cached || now() - cached.at >= CACHE_MS) cached = { keys: await load(), at: now() };
    ctx.set('Cache-Control', 'public, max-age=60');
    ctx.type = 'application/jwk-set+json';
    ctx.body = JSON.stringify({ keys: cached.keys });
  };
}
