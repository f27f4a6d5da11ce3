// Holds the current oidc-provider instance. oidc-provider computes its keystore (and the order
// in which it picks a signing key for ID tokens) once, at construction, so a key rotation
// builds a new instance and swaps it in; requests already inside the old one finish there.
// All state lives in the database and cookies are signed with keys from the master key, so
// an interaction begun on one instance completes on the next.
import type Koa from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';
import type { KeyringStore } from '../keys/keyring-store.ts';
import type { Logger } from '../log/logger.ts';

export interface ProviderHost {
  readonly current: () => Provider;
  readonly middleware: Koa.Middleware;
}

export function createProviderHost(build: () => Provider, keys: KeyringStore, log: Logger): ProviderHost {
  const make = (): { provider: Provider; handler: Koa.Middleware } => {
    const provider = build();
    return { provider, handler: compose(provider.middleware) as Koa.Middleware };
  };
  let current = make();
  keys.onChange(() => {
    current = make();
    log.info('oidc provider rebuilt for the new signing keys', { signing: keys.current().signingKid() });
  });
  return {
    current: () => current.provider,
    middleware: async (ctx, next) => {
      await current.handler(ctx, next);
    },
  };
}
