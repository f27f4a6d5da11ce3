// A span around token issuance at the token endpoint: oidc-provider's grant handler, which
// authenticates the client, applies govauth's policy (resource-indicators.ts), mints the tokens
// and signs them. The signing itself happens inside oidc-provider (jose over the keystore it
// builds from the private JWKs), with no hook after it, so this is the narrowest span that
// contains it; the signing key's id is an attribute. Registered (seams.ts) inside
// the audit middleware, so the durable audit write (its own span) is not inside.
import type { Middleware } from 'koa';
import type { KeyringStore } from '../keys/keyring-store.ts';
import type { Tracing } from '../tracing/tracing.ts';
import { protocolOf } from './seams.ts';

export function tokenIssuanceSpan(tracing: Tracing, keys: KeyringStore): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== '/token') {
      await next();
      return;
    }
    await tracing.inSpan('oidc.token.issue', { attributes: { 'govauth.signing_kid': keys.current().signingKid() } }, async (span) => {
      await next();
      const grantType = protocolOf(ctx)?.params?.grant_type;
      if (typeof grantType === 'string') span.setAttribute('oauth.grant_type', grantType);
      const error = (ctx.body as { error?: unknown } | undefined)?.error;
      // The RFC 6749 §5.2 code only (public by definition), not the description.
      if (ctx.status >= 400 && typeof error === 'string') span.setAttribute('oauth.error', error);
    });
  };
}
