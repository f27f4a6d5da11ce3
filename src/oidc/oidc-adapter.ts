// oidc-provider's storage adapter (docs § adapter; example/my_adapter.js): one table for every
// model, indexed on grantId, uid, userCode and expiresAt. Clients come from the policy
// snapshot instead (see client-metadata.ts). `consume` is compare-and-set: oidc-provider reads
// then consumes without atomicity, so two concurrent redemptions of one code or refresh token
// would both succeed; with CAS exactly one does and the other gets invalid_grant.
import Provider, { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Database } from '../db/database.ts';
import { readTime } from '../db/raw-sql.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { toClientMetadata } from './client-metadata.ts';

/** Called when oidc-provider revokes a grant (refresh-token reuse, code replay, sign-out). */
export type GrantRevokedHook = (grantId: string, reason: string) => Promise<void>;

class SqlModelAdapter implements Adapter {
  readonly #model: string;
  readonly #db: Database;
  readonly #onGrantRevoked: GrantRevokedHook | undefined;
  constructor(model: string, db: Database, onGrantRevoked?: GrantRevokedHook) {
    this.#model = model;
    this.#db = db;
    this.#onGrantRevoked = onGrantRevoked;
  }

  // Plain SQL on the driver (src/db/raw-sql.ts): these run on every code exchange, refresh and
  // sign-in step, where Prisma's per-query cost showed (one upsert opened a transaction, and on
  // SQLite a new connection, each time).
  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const { sql } = this.#db;
    const expiresAt = expiresIn ? sql.time(new Date(Date.now() + expiresIn * 1000)) : null;
    await sql.execute(
      `INSERT INTO "OidcPayload" ("model", "id", "payload", "grantId", "accountId", "clientId", "uid", "userCode", "expiresAt")
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT ("model", "id") DO UPDATE SET "payload" = excluded."payload", "grantId" = excluded."grantId",
         "accountId" = excluded."accountId", "clientId" = excluded."clientId", "uid" = excluded."uid",
         "userCode" = excluded."userCode", "expiresAt" = excluded."expiresAt"`,
      [this.#model, id, JSON.stringify(payload), payload.grantId ?? null, payload.accountId ?? null, payload.clientId ?? null, payload.uid ?? null, payload.userCode ?? null, expiresAt],
    );
    // A grant is created at consent, outside any browser-session context; the code issued from
    // it is the first record that names the session. Linking the Grant row to that session
    // lets sign-out end every grant issued in it (sign-out-revocation.ts), including earlier
    // grants of an app that consented again, which the session itself no longer lists.
    if (this.#model === 'AuthorizationCode' && typeof payload.sessionUid === 'string' && payload.grantId) {
      await sql.execute(`UPDATE "OidcPayload" SET "sessionUid" = ? WHERE "model" = 'Grant' AND "id" = ? AND "sessionUid" IS NULL`, [payload.sessionUid, payload.grantId]);
    }
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.#present(await this.#row('"id" = ?', id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#present(await this.#row('"uid" = ?', uid));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#present(await this.#row('"userCode" = ?', userCode));
  }

  async consume(id: string): Promise<void> {
    const { sql } = this.#db;
    const changed = await sql.execute('UPDATE "OidcPayload" SET "consumedAt" = ? WHERE "model" = ? AND "id" = ? AND "consumedAt" IS NULL', [
      sql.time(new Date()),
      this.#model,
      id,
    ]);
    if (changed === 0) {
      // Another redemption of this code consumed it between oidc-provider's read and this write.
      // A code used more than once is refused, and the tokens issued from it SHOULD be revoked
      // (RFC 6749 §4.1.2, RFC 9700 §4.5): oidc-provider does so for a replay it sees, not for
      // this race, so the winner's grant is revoked here before the loser hears invalid_grant.
      if (this.#model === 'AuthorizationCode' && this.#onGrantRevoked) {
        const [row] = await sql.query<{ grantId: string | null }>('SELECT "grantId" FROM "OidcPayload" WHERE "model" = ? AND "id" = ?', [this.#model, id]);
        if (row?.grantId) await this.#onGrantRevoked(row.grantId, 'authorization code redeemed twice at once');
      }
      throw new errors.InvalidGrant('grant request is invalid');
    }
  }

  async destroy(id: string): Promise<void> {
    await this.#db.sql.execute('DELETE FROM "OidcPayload" WHERE "model" = ? AND "id" = ?', [this.#model, id]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    // oidc-provider revokes a grant through every token model, always including AccessToken
    // (lib/helpers/revoke.js), and awaits it. JWT access tokens are not stored, so this is where
    // the grant revocation is recorded, durably, before oidc-provider answers.
    if (this.#model === 'AccessToken' && this.#onGrantRevoked) {
      await this.#onGrantRevoked(grantId, revocationReason(Provider.ctx?.oidc?.route));
    }
    await this.#db.sql.execute('DELETE FROM "OidcPayload" WHERE "model" = ? AND "grantId" = ?', [this.#model, grantId]);
  }

  async #row(where: string, value: string): Promise<{ payload: string; expiresAt: unknown; consumedAt: unknown } | undefined> {
    const rows = await this.#db.sql.query<{ payload: string; expiresAt: unknown; consumedAt: unknown }>(
      `SELECT "payload", "expiresAt", "consumedAt" FROM "OidcPayload" WHERE "model" = ? AND ${where} LIMIT 1`,
      [this.#model, value],
    );
    return rows[0];
  }

  #present(row: { payload: string; expiresAt: unknown; consumedAt: unknown } | undefined): AdapterPayload | undefined {
    if (!row) return undefined;
    const expiresAt = readTime(row.expiresAt);
    if (expiresAt !== null && expiresAt <= Date.now()) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    const consumedAt = readTime(row.consumedAt);
    return consumedAt !== null ? { ...payload, consumed: Math.floor(consumedAt / 1000) } : payload;
  }
}

class SnapshotClientAdapter implements Adapter {
  readonly #policy: PolicyStore;
  constructor(policy: PolicyStore) {
    this.#policy = policy;
  }
  find(id: string): Promise<AdapterPayload | undefined> {
    const client = this.#policy.snapshot().clients.get(id);
    return Promise.resolve(client && toClientMetadata(client));
  }
  // Dynamic registration is off: clients are managed with the CLI and the admin API.
  upsert(): Promise<void> {
    return Promise.reject(new TypeError('clients are read-only through the protocol'));
  }
  findByUid = (): Promise<undefined> => Promise.resolve(undefined);
  findByUserCode = (): Promise<undefined> => Promise.resolve(undefined);
  consume = (): Promise<void> => Promise.resolve();
  destroy = (): Promise<void> => Promise.resolve();
  revokeByGrantId = (): Promise<void> => Promise.resolve();
}

function revocationReason(route: string | undefined): string {
  if (route === 'token') return 'refresh token reuse or authorization code replay';
  if (route?.startsWith('end_session')) return 'signed out';
  return `revoked by the protocol (${route ?? 'unknown route'})`;
}

export function createAdapterFactory(deps: { db: Database; policy: PolicyStore; onGrantRevoked?: GrantRevokedHook }): (model: string) => Adapter {
  return (model) => (model === 'Client' ? new SnapshotClientAdapter(deps.policy) : new SqlModelAdapter(model, deps.db, deps.onGrantRevoked));
}

/** The grants issued in a browser session (by its uid), optionally for one client only. */
export async function grantsOfSession(db: Database, sessionUid: string, clientId?: string): Promise<string[]> {
  const rows = await db.sql.query<{ id: string }>(
    `SELECT "id" FROM "OidcPayload" WHERE "model" = 'Grant' AND "sessionUid" = ?${clientId === undefined ? '' : ' AND "clientId" = ?'}`,
    clientId === undefined ? [sessionUid] : [sessionUid, clientId],
  );
  return rows.map((r) => r.id);
}

/** Deletes expired rows; oidc-provider already ignores them on read. */
export async function pruneExpiredOidcRows(db: Database, now = new Date()): Promise<number> {
  const { count } = await db.prisma.oidcPayload.deleteMany({ where: { expiresAt: { lt: now } } });
  return count;
}
