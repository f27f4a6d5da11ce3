// Passkeys (WebAuthn): the relying party id the credentials are scoped to. By default the
// issuer's host; GOVAUTH_WEBAUTHN_RP_ID may widen it to a registrable parent domain (WebAuthn L3
// §5.1.4.1: the RP ID must be the origin's effective domain or a registrable suffix of it), so
// passkeys survive moving the issuer between hosts of the same domain. The origin checked in
// every ceremony is always the issuer's (clientDataJSON.origin, WebAuthn L3 §7.1 step 9).
import { EnvValueError } from './env-parsers.ts';
import type { Read } from './env-reader.ts';

export interface WebauthnConfig {
  /** An explicit RP ID; undefined: the issuer's host. */
  readonly rpId: string | undefined;
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function readWebauthn(read: Read): WebauthnConfig {
  return {
    rpId: read<string | undefined>('GOVAUTH_WEBAUTHN_RP_ID', undefined, (v) => {
      const id = v.trim().toLowerCase();
      if (!HOST_NAME.test(id)) throw new EnvValueError('must be a host name without scheme or port, such as example.com');
      return id;
    }),
  };
}

/** The RP ID in force: the override, or the issuer's host name (no port; WebAuthn L3 §5.1.4.1). */
export function rpIdFor(issuer: string, config: WebauthnConfig): string {
  return config.rpId ?? new URL(issuer).hostname;
}

/** An override must be the issuer's host or a parent domain of it, or no browser would use it. */
export function checkWebauthn(config: WebauthnConfig, issuer: string | undefined, problems: string[]): void {
  if (!config.rpId || !issuer) return;
  const host = new URL(issuer).hostname;
  if (host !== config.rpId && !host.endsWith(`.${config.rpId}`)) {
    problems.push(`GOVAUTH_WEBAUTHN_RP_ID=${config.rpId}: must be the issuer's host (${host}) or a parent domain of it (WebAuthn §5.1.4.1), or browsers refuse every passkey ceremony`);
  } else if (!config.rpId.includes('.') && config.rpId !== 'localhost') {
    problems.push(`GOVAUTH_WEBAUTHN_RP_ID=${config.rpId}: a top-level domain cannot be a relying party id`);
  }
}
