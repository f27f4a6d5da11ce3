// How a notification is signed for the webhook, two standard shapes (GOVAUTH_WEBHOOK_SIGNING):
// - jws: a Security Event Token (RFC 8417) pushed as RFC 8935 describes: the body is the compact
//   JWS itself (Content-Type application/secevent+jwt, header typ secevent+jwt, RFC 8417 §2.3),
//   RS256 with the key that signs access tokens now, so the receiver verifies it against
//   govauth's /jwks. Claims: iss, jti (the event id), iat, toe (when it happened, RFC 8417 §2.2),
//   aud (the webhook URL), and `events` holding one member, `urn:govauth:event:<type>`, whose
//   value is the event's data.
// - hmac: the JSON event as the body, with Standard Webhooks headers (standardwebhooks.com):
//   webhook-id, webhook-timestamp (seconds) and webhook-signature `v1,<base64 HMAC-SHA256 of
//   "<id>.<timestamp>.<body>">`. The receiver refuses stale timestamps (replays) and seen ids.
import { createHmac } from 'node:crypto';
import type { JwtSigner } from '../keys/jwt-signer.ts';
import type { WebhookConfig } from '../config/webhook-config.ts';
import type { StoredEvent } from './notification-event.ts';

/** The `events` member name of a notification type in a SET (RFC 8417 §2.2: a URI). */
const eventUri = (type: string): string => `urn:govauth:event:${type}`;

export interface SignedRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type RequestSigner = (event: StoredEvent, issuer: string, now: number) => Promise<SignedRequest>;

export function createRequestSigner(config: WebhookConfig, sign: JwtSigner): RequestSigner {
  if (config.signing === 'hmac') {
    const secret = config.secret;
    if (!secret) throw new TypeError('hmac signing needs a secret');
    return (event, issuer, now) => {
      const body = JSON.stringify({ id: event.id, type: event.type, occurred_at: event.occurred_at, issuer, data: event.data });
      const timestamp = String(Math.floor(now / 1000));
      const mac = createHmac('sha256', secret).update(`${event.id}.${timestamp}.${body}`).digest('base64');
      return Promise.resolve({ body, headers: { 'content-type': 'application/json', 'webhook-id': event.id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${mac}` } });
    };
  }
  return async (event, issuer, now) => {
    const set = {
      iss: issuer,
      jti: event.id,
      iat: Math.floor(now / 1000),
      toe: Math.floor(Date.parse(event.occurred_at) / 1000),
      aud: config.url,
      events: { [eventUri(event.type)]: event.data },
    };
    const body = await sign(set, 'secevent+jwt');
    return { body, headers: { 'content-type': 'application/secevent+jwt', accept: 'application/json' } };
  };
}
