// Keeps this process's PolicySnapshot current. The hot path reads `snapshot()` (no I/O);
// changes made by any instance or by the CLI reach every instance through the change feed.
// Staleness bound: one poll interval (GOVAUTH_POLICY_POLL_MS, default 250 ms) plus the reload
// time, well under the 1 s the product promises; a wake-up (PostgreSQL NOTIFY, or the SQLite
// notification file, src/db/change-listener.ts) triggers the poll at once. Failed polls keep the last
// good snapshot and retry at the next tick. Commands wait until every instance reports having
// applied their change (src/db/instance-registry.ts).
import { changesSince, latestChangeId } from '../db/change-feed.ts';
import { watchChangeFeed } from '../db/change-listener.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../time/clock.ts';
import { loadPolicySnapshot, loadUser, loadUsers } from './policy-loader.ts';
import type { PolicySnapshot, UserDef } from './policy-model.ts';
import { RevocationState, REVOCATION_KINDS, type RevocationKind } from './revocation-state.ts';
import { loadRevocation, loadRevocations } from './revocations.ts';
import { ABAC_CHANGE_KINDS, createAbacStore, type AbacStore } from './abac/abac-store.ts';

/** Change kinds that alter the snapshot; other kinds are for other subscribers. */
const POLICY_KINDS = new Set(['scope', 'resource', 'role', 'client', 'delegation', 'trust-policy']);

type ChangeListener = (changes: readonly { kind: string; key: string }[]) => void | Promise<void>;

export interface PolicyStore {
  snapshot(): PolicySnapshot;
  /** People are kept apart from the catalogue snapshot and updated one by one. */
  user(id: string): UserDef | undefined;
  /** Every person, by id (the access review; updated in place like `user`). */
  users(): ReadonlyMap<string, UserDef>;
  /** What is revoked and still in force (updated in place, entry by entry). */
  readonly revocations: RevocationState;
  /** Attributes, zones and the active Cedar policy set (abac/abac-store.ts); absent in fakes: roles only. */
  readonly abac?: AbacStore;
  /** Highest change id read into the snapshot, users and revocations. */
  cursor(): number;
  /** Highest change id whose every subscriber (keys, ...) has run too: what this instance reports as applied. */
  applied(): number;
  /** Polls the feed now (used after local writes, by NOTIFY, and by tests). */
  sync(): Promise<void>;
  /** Subscribes to every change row (all kinds), after the snapshot has been updated. */
  onChange(listener: ChangeListener): void;
  /** Called once `applied()` has advanced (after every onChange listener ran). */
  onApplied(listener: () => void): void;
  close(): Promise<void>;
}

export async function createPolicyStore(deps: { db: Database; pollMs: number; log: Logger; now: Clock; listen?: boolean }): Promise<PolicyStore> {
  const { db, log } = deps;
  let cursor = await latestChangeId(db);
  let applied = cursor;
  let current = await loadPolicySnapshot(db);
  const users = await loadUsers(db);
  const revocations = new RevocationState();
  for (const entry of await loadRevocations(db, deps.now())) revocations.set(entry);
  const abac = await createAbacStore({ db, log, snapshot: () => current });
  const listeners: ChangeListener[] = [];
  const appliedListeners: (() => void)[] = [];
  let inFlight: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const poll = async (): Promise<void> => {
    const changes = await changesSince(db, cursor);
    if (!changes.length) return;
    const last = changes[changes.length - 1];
    if (changes.some((c) => POLICY_KINDS.has(c.kind))) {
      // Read the catalogue after the cursor: anything committed later has a larger id and
      // triggers another reload, so no change can be missed.
      current = await loadPolicySnapshot(db);
    }
    if (changes.some((c) => ABAC_CHANGE_KINDS.has(c.kind))) await abac.reload();
    for (const id of new Set(changes.filter((c) => c.kind === 'user').map((c) => c.key))) {
      const user = await loadUser(db, id);
      if (user) users.set(id, user);
      else users.delete(id);
    }
    for (const ref of new Set(changes.filter((c) => c.kind === 'revocation').map((c) => c.key))) {
      const split = ref.indexOf(':');
      const kind = ref.slice(0, split) as RevocationKind;
      const key = ref.slice(split + 1);
      if (!REVOCATION_KINDS.includes(kind)) continue;
      const entry = await loadRevocation(db, kind, key);
      if (entry) revocations.set(entry);
      else revocations.delete(kind, key);
    }
    if (last) cursor = last.id;
    for (const listener of listeners) {
      try {
        await listener(changes);
      } catch (err) {
        log.error('change listener failed', { err });
      }
    }
    applied = cursor;
    for (const listener of appliedListeners) listener();
    if (changes.length >= 1000) again = true;
  };

  const sync = (): Promise<void> => {
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      try {
        do {
          again = false;
          await poll();
        } while (again && !closed);
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  const refresh = (): void => {
    sync().catch((err: unknown) => log.warn('policy refresh failed; serving the last good snapshot', { err }));
  };
  const timer = setInterval(refresh, deps.pollMs);
  timer.unref();
  const listener = deps.listen === false ? undefined : watchChangeFeed(db, refresh, log);

  return {
    snapshot: () => current,
    user: (id) => users.get(id),
    users: () => users,
    revocations,
    abac,
    cursor: () => cursor,
    applied: () => applied,
    sync,
    onChange: (listener) => listeners.push(listener),
    onApplied: (listener) => appliedListeners.push(listener),
    async close() {
      closed = true;
      clearInterval(timer);
      await listener?.close();
    },
  };
}
