// RFC 7591 dynamic registration and RFC 7592 management through oidc-provider's own endpoints
// (features.registration, features.registrationManagement), with govauth's governance around
// them: the metadata is judged by governance/dynamic-registration.ts before oidc-provider's
// schema, the client lands in the governance catalogue (the Client adapter's upsert), the
// initial access token is govauth's (hashed, counted, expiring: governance/registration-tokens.ts), and
// every request spends from its source address's budget.
import type { Middleware } from 'koa';
import { errors, type AdapterPayload, type Configuration } from 'oidc-provider';
import type { Actor } from '../audit/audit-chain.ts';
import type { SelfRegistrationConfig } from '../config/self-registration-config.ts';
import type { Database } from '../db/database.ts';
import { refundRegistrationToken, spendRegistrationToken } from '../db/self-registration-repository.ts';
import { newClientId, newClientSecret } from '../governance/client-secrets.ts';
import { checkRegistrationMetadata, deregisterDynamicClient, registerDynamicClient, RegistrationRefused, updateDynamicClient } from '../governance/dynamic-registration.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { registrationTokenDigest } from '../governance/registration-tokens.ts';
import { sendError } from '../http/error-responses.ts';
import type { Logger } from '../log/logger.ts';
import type { RateLimiter, RateRule } from '../ratelimit/rate-limiter.ts';
import type { Clock } from '../time/clock.ts';
import { currentOidcContext } from './seams.ts';

/** oidc-provider's registration route (its default, routes.registration). */
const REGISTRATION_PATH = '/reg';

type Features = NonNullable<Configuration['features']>;

/** The two features, on whenever GOVAUTH_DYNAMIC_REGISTRATION is not off. */
export function registrationFeatures(config: SelfRegistrationConfig): Pick<Features, 'registration' | 'registrationManagement'> {
  const enabled = config.dynamicRegistration !== 'off';
  return {
    registration: {
      enabled,
      // govauth checks its own initial access tokens (registrationGate below): stored hashed with
      // an expiry and a number of uses, which oidc-provider's InitialAccessToken model is not.
      initialAccessToken: false,
      // RFC 7592 §1: the client manages its registration with this token.
      issueRegistrationAccessToken: true,
      idFactory: () => newClientId(),
      secretFactory: () => newClientSecret(),
    },
    // Each use of the registration access token to update replaces it (RFC 7592 §2.2 MAY).
    registrationManagement: { enabled, rotateRegistrationAccessToken: true },
  };
}

const isMetadataDocumentId = (id: unknown): boolean => typeof id === 'string' && id.startsWith('https://');

/**
 * oidc-provider calls this validator, synchronously, with the whole metadata before its own
 * schema checks it, for every client it builds: govauth's rules run here for a registration
 * (and an RFC 7592 update) and for a metadata document, and nowhere else. It may also settle
 * application_type (RFC 8252 §7.3: loopback redirects make a native app).
 */
export const extraClientMetadata: Configuration['extraClientMetadata'] = {
  properties: ['software_id', 'software_version'],
  validator(ctx, key, _value, metadata) {
    if (key !== 'software_id') return; // once per client
    const oidc = (ctx)?.oidc;
    const registering = oidc?.route === 'registration' || oidc?.route === 'client_update';
    if (!registering && !isMetadataDocumentId(metadata.client_id)) return;
    try {
      // What the client declared, not oidc-provider's default (web); a metadata document's type is inferred.
      const declared = registering ? (oidc.body)?.application_type : undefined;
      metadata.application_type = checkRegistrationMetadata(metadata, declared).applicationType;
      // `scope` is a hint (RFC 7591 §2) that RFC 7591 §3.2.1 lets the server replace: what a
      // client receives is governance's decision at each issuance, and oidc-provider would
      // refuse the API scopes it does not list itself.
      delete metadata.scope;
    } catch (err) {
      if (!(err instanceof RegistrationRefused)) throw err;
      // oidc-provider answers invalid_redirect_uri for a description starting with redirect_uris (RFC 7591 §3.2.2).
      const description = err.error === 'invalid_redirect_uri' && !err.message.startsWith('redirect_uris') ? `redirect_uris: ${err.message}` : err.message;
      throw new errors.InvalidClientMetadata(description);
    }
  },
};

/** Who registered: the client itself, from the request's address (the audit record's actor). */
function clientActor(clientId: string): Actor {
  const ctx = currentOidcContext();
  return { actorType: 'client', actor: clientId, ip: ctx?.ip, requestId: ctx?.state.requestId };
}

/** What the Client adapter does with a registration oidc-provider accepted (oidc-adapter.ts). */
export interface ClientRegistrations {
  upsert(clientId: string, payload: AdapterPayload): Promise<void>;
  destroy(clientId: string): Promise<void>;
}

export function clientRegistrations(deps: { db: Database; policy: PolicyStore; now: Clock }): ClientRegistrations {
  return {
    async upsert(clientId, payload) {
      // The validator above judged what the client declared; here only what is stored is read.
      const facts = checkRegistrationMetadata(payload, payload.application_type === 'native' ? 'native' : undefined);
      const known = deps.policy.snapshot().clients.get(clientId);
      if (known) {
        if (known.selfRegistered?.kind !== 'dynamic') throw new errors.InvalidClientMetadata('this client is managed by an administrator');
        await updateDynamicClient(deps.db, clientId, facts, clientActor(clientId));
      } else {
        const secret = typeof payload.client_secret === 'string' ? payload.client_secret : null;
        await registerDynamicClient(deps.db, { clientId, clientSecret: facts.isPublic ? null : secret }, facts, clientActor(clientId), deps.now());
      }
      // This instance serves the client at once; the others within one poll (policy-store.ts).
      await deps.policy.sync();
    },
    async destroy(clientId) {
      await deregisterDynamicClient(deps.db, clientId, clientActor(clientId));
      await deps.policy.sync();
    },
  };
}

/**
 * Before oidc-provider's registration endpoints: the source address's budget (every request,
 * RFC 7591 and RFC 7592 alike), then, in `token` mode, the initial access token (RFC 7591 §3,
 * RFC 6750 §3 for the refusal); a use spent on a registration that is then refused is given
 * back. After them: the stored secret is never echoed (RFC 7592 §3 read and update answers
 * carry what oidc-provider holds, which is govauth's argon2id hash).
 */
export function registrationGate(deps: { config: SelfRegistrationConfig; db: Database; limiter: RateLimiter; perMinute: number; log: Logger; now: Clock }): Middleware {
  const rule: RateRule = { name: 'registration-address', limit: deps.perMinute, windowSeconds: 60 };
  return async (ctx, next) => {
    if (deps.config.dynamicRegistration === 'off' || (ctx.path !== REGISTRATION_PATH && !ctx.path.startsWith(`${REGISTRATION_PATH}/`))) {
      await next();
      return;
    }
    if (rule.limit > 0) {
      const verdict = await deps.limiter.take(rule, ctx.ip);
      if (!verdict.allowed) {
        if (verdict.first) deps.log.warn('registration rate limit reached', { ip: ctx.ip, limitPerMinute: rule.limit });
        ctx.set('Retry-After', String(verdict.retryAfterSeconds));
        return sendError(ctx, 429, 'slow_down', `too many registration requests from this address (limit ${rule.limit} per minute); retry after ${verdict.retryAfterSeconds} s`);
      }
    }
    let spent: string | undefined;
    if (ctx.path === REGISTRATION_PATH && ctx.method === 'POST' && deps.config.dynamicRegistration === 'token') {
      const presented = /^Bearer ([\x21-\x7e]+)$/i.exec(ctx.get('authorization'))?.[1];
      spent = presented === undefined ? undefined : await spendRegistrationToken(deps.db, registrationTokenDigest(presented), new Date(deps.now()));
      if (!spent) {
        ctx.set('WWW-Authenticate', `Bearer error="invalid_token"`);
        return sendError(ctx, 401, 'invalid_token', presented === undefined ? 'registration needs an initial access token from an administrator (govauth client registration-token)' : 'the initial access token is unknown, expired, revoked or used up');
      }
    }
    try {
      await next();
    } finally {
      if (spent && ctx.status !== 201) await refundRegistrationToken(deps.db, spent);
    }
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.method !== 'POST' && body && typeof body === 'object' && typeof body.client_secret === 'string' && body.client_secret.startsWith('$argon2')) {
      delete body.client_secret;
      delete body.client_secret_expires_at;
    }
  };
}
