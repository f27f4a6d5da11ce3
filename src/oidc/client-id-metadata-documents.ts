// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-02, through
// oidc-provider's experimental features.clientIdMetadataDocument, pinned by its ack): an MCP
// client's client_id is an https URL serving its metadata. oidc-provider fetches (through the
// outbound fetch rule), checks the document (client_id equals the URL, no shared secrets, https
// URIs) and caches it within cacheDuration; govauth decides whether it may be fetched at all
// and whether the client may be used, and records it (governance/metadata-document-clients.ts).
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { SelfRegistrationConfig } from '../config/self-registration-config.ts';
import type { Database } from '../db/database.ts';
import { isRecorded, recordMetadataDocumentClient } from '../governance/metadata-document-clients.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { DEFAULT_TRUST_POLICY, metadataDocumentRefusal } from '../governance/self-registration.ts';
import type { Logger } from '../log/logger.ts';
import type { RateLimiter, RateRule } from '../ratelimit/rate-limiter.ts';

type Features = NonNullable<Configuration['features']>;

/** The draft version oidc-provider 9.13 implements; an upgrade that changes it must be read first. */
const ACK = 'draft-02';

/** Refusal for a URL the trust policy or a block rules out, before any fetch and on every use. */
function refusalFor(policy: PolicyStore, clientId: string): string | undefined {
  const snapshot = policy.snapshot();
  return metadataDocumentRefusal(snapshot.trustPolicy ?? DEFAULT_TRUST_POLICY, new URL(clientId).hostname, snapshot.clients.get(clientId)?.selfRegistered);
}

export function metadataDocumentFeature(deps: {
  config: SelfRegistrationConfig;
  db: Database;
  policy: PolicyStore;
  limiter: RateLimiter;
  perMinute: number;
  log: Logger;
}): Pick<Features, 'clientIdMetadataDocument'> {
  const rule: RateRule = { name: 'metadata-document-address', limit: deps.perMinute, windowSeconds: 60 };
  return {
    clientIdMetadataDocument: {
      enabled: deps.config.metadataDocuments,
      ack: ACK,
      // Documents are re-read within a day at most, and no more often than every minute per URL.
      cacheDuration: { min: 60, max: 86_400 },
      // Before a fetch (a cached document is not fetched again): the trust policy, then the
      // source address's budget, since each fetch is a request govauth makes for a stranger.
      async allowFetch(ctx, clientId) {
        const refusal = refusalFor(deps.policy, clientId);
        if (refusal) throw new errors.InvalidClient(refusal);
        if (rule.limit > 0 && ctx) {
          const verdict = await deps.limiter.take(rule, ctx.ip);
          if (!verdict.allowed) {
            if (verdict.first) deps.log.warn('client ID metadata document rate limit reached', { ip: ctx.ip, limitPerMinute: rule.limit });
            throw new errors.InvalidClient(`too many client ID metadata documents fetched for this address; retry after ${verdict.retryAfterSeconds} s`);
          }
        }
        return true;
      },
      // On every resolution, cached or fetched: a block applies at once; the first success is recorded.
      async allowClient(ctx, client) {
        const refusal = refusalFor(deps.policy, client.clientId);
        if (refusal) throw new errors.InvalidClient(refusal);
        const doc = { clientId: client.clientId, name: client.clientName, redirectUris: [...(client.redirectUris ?? [])] };
        if (!isRecorded(deps.policy.snapshot().clients.get(client.clientId), doc)) {
          const oidcCtx = ctx as KoaContextWithOIDC | undefined;
          await recordMetadataDocumentClient(deps.db, doc, { actorType: 'client', actor: client.clientId, ip: oidcCtx?.ip, requestId: oidcCtx?.state.requestId });
          await deps.policy.sync();
        }
        return true;
      },
    },
  };
}
