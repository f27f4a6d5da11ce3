// Two small rewrites of oidc-provider's responses, registered in the order seams.ts gives, and
// the events that tell them (and the audit) what oidc-provider caught.
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { SecretVerifier } from '../governance/client-secrets.ts';
import { RETRY_SHORTLY, sendUnavailable } from '../http/error-responses.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { protocolOf } from './seams.ts';

/**
 * An unknown or disabled client_id fails before compareClientSecret ("client not found"): answer
 * as late as a wrong secret does, so timing does not tell which client_ids exist
 * (client-secrets.ts). Only when a secret was presented: without one, no argon2 runs anyway.
 */
export function unknownClientTiming(verifier: Pick<SecretVerifier, 'reject'>): Middleware {
  return async (ctx, next) => {
    const startedAt = performance.now();
    await next();
    const oidc = protocolOf(ctx);
    const secretSent = Boolean(oidc?.params?.client_secret) || /^basic /i.test(ctx.get('authorization'));
    if (ctx.status === 401 && secretSent && oidc && !oidc.client && (ctx.body as { error?: unknown } | undefined)?.error === 'invalid_client') {
      await verifier.reject(startedAt);
    }
  };
}

/**
 * oidc-provider renders any exception as 500 server_error; a database outage is a 503 the
 * client should retry (RFC 6749 §5.2 has no code for it; temporarily_unavailable is §4.1.2.1).
 * The exception arrives through the server_error event (protocolEvents below).
 */
export function databaseOutage(metrics: Pick<Metrics, 'databaseError'>): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.status === 500 && isDatabaseUnavailable(ctx.state.serverError)) {
      metrics.databaseError('protocol');
      sendUnavailable(ctx, { retryAfterSeconds: 2, description: RETRY_SHORTLY, body: Boolean(ctx.body && typeof ctx.body === 'object') });
    }
  };
}

/** Keeps what oidc-provider caught in the request's state, for databaseOutage and the audit. */
export function protocolEvents(provider: Provider, log: Logger): void {
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
    ctx.state.serverError = err; // rewritten to 503 by databaseOutage when the database is the cause
    if (isDatabaseUnavailable(err)) log.warn('database unavailable during a protocol request', { err: err.message, route: ctx.oidc?.route, requestId: ctx.state?.requestId });
    else log.error('oidc server error', { err, route: ctx.oidc?.route, requestId: ctx.state?.requestId });
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: Error & { error_detail?: string }) => {
    ctx.state.grantError = err; // for the audit record of the refusal (token-audit.ts)
    log.debug('token request refused', { error: err.message, detail: err.error_detail, client: ctx.oidc?.client?.clientId });
  });
}
