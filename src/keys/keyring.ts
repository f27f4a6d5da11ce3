// The signing keys this process knows, and which one signs now. oidc-provider gets the private
// JWKs (current key first: among keys with equal metadata it signs with the first match,
// lib/helpers/keystore.js) and every token names its kid explicitly (resource-indicators.ts).
import type { JWK } from 'jose';
import type { Clock } from '../time/clock.ts';
import { currentSigningKey, publishedKeys, type SigningKey } from './signing-keys.ts';

export class Keyring {
  #keys: readonly SigningKey[];
  #version = 0;
  readonly #now: Clock;

  constructor(keys: readonly SigningKey[], now: Clock) {
    if (!currentSigningKey(keys, now())) throw new TypeError('a keyring needs an active signing key');
    this.#keys = keys;
    this.#now = now;
  }

  /** Replaces the keys in place (rotation); holders of this keyring see the new ones. */
  update(keys: readonly SigningKey[]): void {
    if (!currentSigningKey(keys, this.#now()) && !currentSigningKey(keys, Number.MAX_SAFE_INTEGER)) throw new TypeError('a keyring needs a signing key');
    this.#keys = keys;
    this.#version++;
  }

  /** Changes whenever the keys do (for caches derived from them). */
  get version(): number {
    return this.#version;
  }

  get keys(): readonly SigningKey[] {
    return this.#keys;
  }

  signingKid(): string {
    const key = currentSigningKey(this.#keys, this.#now()) ?? currentSigningKey(this.#keys, Number.MAX_SAFE_INTEGER);
    if (!key) throw new TypeError('no signing key');
    return key.kid;
  }

  publishedKids(): string[] {
    return publishedKeys(this.#keys, this.#now()).map((k) => k.kid);
  }

  /** Private JWKs of every published key, the signing key first. */
  privateJwks(): JWK[] {
    const kid = this.signingKid();
    const published = publishedKeys(this.#keys, this.#now());
    return [...published.filter((k) => k.kid === kid), ...published.filter((k) => k.kid !== kid)].map((k) => ({ ...k.privateJwk }));
  }
}
