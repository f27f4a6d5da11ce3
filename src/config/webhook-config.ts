// GOVAUTH_WEBHOOK_URL / _SIGNING / _SECRET / _MAX_ATTEMPTS: where notifications go and how they
// are signed (src/notifications/), checked once at start so a half-configured webhook never runs.
// The URL is the operator's own choice, not a client's: it may point at a private address
// (internal alerting usually lives there), unlike a jwks_uri (outbound-url.ts). It must be https
// (the events say who lost access, and HMAC signatures do not hide the body), except with the
// development allowance GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE, which production refuses.
import { EnvValueError, parseEnum, parseInteger } from './env-parsers.ts';
import type { Read } from './env-reader.ts';

type WebhookSigning = 'jws' | 'hmac';

export interface WebhookConfig {
  readonly url: string;
  /** jws: a Security Event Token (RFC 8417) signed with the current signing key; hmac: Standard Webhooks headers. */
  readonly signing: WebhookSigning;
  /** The HMAC key (the bytes after `whsec_`); only with signing=hmac. */
  readonly secret: Buffer | undefined;
  /** Attempts before an event is marked failed (the first included). */
  readonly maxAttempts: number;
}

/** Standard Webhooks' secret format: `whsec_` then 24 to 64 random bytes in base64. */
function parseSecret(raw: string): Buffer {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(raw.trim());
  const key = m ? Buffer.from(m[1] ?? '', 'base64') : Buffer.alloc(0);
  if (key.length < 24 || key.length > 64) {
    throw new EnvValueError(`must be whsec_ followed by 24 to 64 random bytes in base64; make one with: node -e "console.log('whsec_'+require('crypto').randomBytes(32).toString('base64'))"`);
  }
  return key;
}

function parseWebhookUrl(raw: string, allowHttp: boolean): string {
  const url = URL.parse(raw.trim());
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new EnvValueError('must be an absolute https URL');
  if (url.username || url.password) throw new EnvValueError('must not contain credentials (user:password@); authenticate the receiver with the signature');
  if (url.hash) throw new EnvValueError('must not contain a fragment');
  if (url.protocol === 'http:' && !allowHttp) {
    throw new EnvValueError('must use https (http only with GOVAUTH_OUTBOUND_FETCH_ALLOW_PRIVATE=true, a development allowance refused in production)');
  }
  return url.href;
}

/** Undefined when GOVAUTH_WEBHOOK_URL is unset: events are kept in the outbox but not sent. */
export function readWebhook(read: Read, problems: string[], allowHttp: boolean): WebhookConfig | undefined {
  const before = problems.length;
  const url = read<string | undefined>('GOVAUTH_WEBHOOK_URL', undefined, (v) => parseWebhookUrl(v, allowHttp));
  const urlRefused = problems.length > before;
  const signing = read<WebhookSigning | undefined>('GOVAUTH_WEBHOOK_SIGNING', undefined, (v) => parseEnum(v, ['jws', 'hmac'] as const));
  const secret = read<Buffer | undefined>('GOVAUTH_WEBHOOK_SECRET', undefined, parseSecret);
  const maxAttempts = read('GOVAUTH_WEBHOOK_MAX_ATTEMPTS', 8, (v) => parseInteger(v, 1, 30));
  if (signing === 'hmac' && !secret) problems.push('GOVAUTH_WEBHOOK_SIGNING=hmac needs GOVAUTH_WEBHOOK_SECRET (whsec_ followed by 24 to 64 random bytes in base64)');
  if (signing === 'jws' && secret) problems.push('GOVAUTH_WEBHOOK_SECRET is set but GOVAUTH_WEBHOOK_SIGNING=jws does not use it: set GOVAUTH_WEBHOOK_SIGNING=hmac, or remove the secret');
  if (!url && !urlRefused && (signing || secret)) problems.push('GOVAUTH_WEBHOOK_SIGNING or GOVAUTH_WEBHOOK_SECRET is set without GOVAUTH_WEBHOOK_URL: set the URL notifications go to, or remove them');
  if (url && !signing && problems.length === before) problems.push('GOVAUTH_WEBHOOK_URL needs GOVAUTH_WEBHOOK_SIGNING=jws (signed with govauth\'s key, verified against /jwks) or hmac (with GOVAUTH_WEBHOOK_SECRET)');
  if (!url || !signing || problems.length > before) return undefined;
  return { url, signing, secret: signing === 'hmac' ? secret : undefined, maxAttempts };
}
