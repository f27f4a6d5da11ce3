// The current keyring of this process, kept up to date: reloaded from the database when a
// `key` change arrives (a rotation on any instance or the CLI) and at every scheduled
// transition (a pending key activating, a retired key expiring), so each instance starts and
// stops signing with a key at the same instants and publishes the same JWKS.
import type { Database } from '../db/database.ts';
import type { ChangeRef } from '../db/change-feed.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../time/clock.ts';
import { Keyring } from './keyring.ts';
import type { MasterKey } from './master-key.ts';
import { loadSigningKeys, type SigningKey } from './signing-keys.ts';

export interface KeyringStore {
  current(): Keyring;
  onChange(listener: (keyring: Keyring) => void): void;
  reload(): Promise<void>;
  close(): void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

function nextTransition(keys: readonly SigningKey[], now: number): number | undefined {
  const times = keys.flatMap((k) => [k.activateAt, k.retireAt, k.expireAt]).filter((t): t is number => t !== null && t > now);
  return times.length ? Math.min(...times) : undefined;
}

/** Tells of the change-feed rows each instance applies (the policy store's onChange). */
export type OnChanges = (listener: (changes: readonly ChangeRef[]) => Promise<void>) => void;

export async function createKeyringStore(deps: { db: Database; master: MasterKey; onChanges: OnChanges; now: Clock; log: Logger }): Promise<KeyringStore> {
  const keyring = new Keyring(await loadSigningKeys(deps.db, deps.master), deps.now);
  const listeners: ((k: Keyring) => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const schedule = (): void => {
    clearTimeout(timer);
    if (closed) return;
    const at = nextTransition(keyring.keys, deps.now());
    if (at === undefined) return;
    timer = setTimeout(() => void store.reload().catch((err: unknown) => deps.log.error('key reload failed', { err })), Math.min(MAX_TIMER_MS, Math.max(0, at - deps.now()) + 5));
    timer.unref();
  };

  const store: KeyringStore = {
    current: () => keyring,
    onChange: (listener) => void listeners.push(listener),
    async reload() {
      keyring.update(await loadSigningKeys(deps.db, deps.master));
      deps.log.info('signing keys reloaded', { signing: keyring.signingKid(), published: keyring.publishedKids() });
      for (const listener of listeners) listener(keyring);
      schedule();
    },
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
  deps.onChanges(async (changes) => {
    if (changes.some((c) => c.kind === 'key')) await store.reload();
  });
  schedule();
  return store;
}
