// oidc-provider's storage adapter (docs § adapter; example/my_adapter.js): one table for every
// model, indexed on grantId, uid, userCode and expiresAt. Clients come from the policy
// snapshot instead (see client-metadata.ts). `consume` is compare-and-set: oidc-provider reads
// then consumes without atomicity, so two concurrent redemptions of one code or refresh token
// would both succeed; with CAS exactly one does and the other gets invalid_grant.
import Provider, { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Database } from '../db/database.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import { toClientMetadata } from './client-metadata.ts';

/** Called when oidc-provider revokes a grant (refresh-token reuse, code replay, sign-out). */
export type GrantRevokedHook = (grantId: string, reason: string) => Promise<void>;

class PrismaModelAdapter implements Adapter {
  readonly #model: string;
  readonly #db: Database;
  readonly #onGrantRevoked: GrantRevokedHook | undefined;
  constructor(model: string, db: Database, onGrantRevoked?: GrantRevokedHook) {
    this.#model = model;
    this.#db = db;
    this.#onGrantRevoked = onGrantRevoked;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const data = {
      payload: JSON.stringify(payload),
      grantId: payload.grantId ?? null,
      accountId: payload.accountId ?? null,
      clientId: payload.clientId ?? null,
      uid: payload.uid ?? null,
      userCode: payload.userCode ?? null,
      expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
    };
    await this.#db.prisma.oidcPayload.upsert({
      where: { model_id: { model: this.#model, id } },
      create: { model: this.#model, id, ...data },
      update: data,
    });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.#present(await this.#db.prisma.oidcPayload.findUnique({ where: { model_id: { model: this.#model, id } } }));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#present(await this.#db.prisma.oidcPayload.findFirst({ where: { model: this.#model, uid } }));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#present(await this.#db.prisma.oidcPayload.findFirst({ where: { model: this.#model, userCode } }));
  }

  async consume(id: string): Promise<void> {
    const { count } = await this.#db.prisma.oidcPayload.updateMany({
      where: { model: this.#model, id, consumedAt: null },
      data: { consumedAt: new Date() },
    });
    if (count === 0) throw new errors.InvalidGrant('grant request is invalid');
  }

  async destroy(id: string): Promise<void> {
    await this.#db.prisma.oidcPayload.deleteMany({ where: { model: this.#model, id } });
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    // oidc-provider revokes a grant through every token model, always including AccessToken
    // (lib/helpers/revoke.js), and awaits it. JWT access tokens are not stored, so this is where
    // the grant revocation is recorded, durably, before oidc-provider answers.
    if (this.#model === 'AccessToken' && this.#onGrantRevoked) {
      await this.#onGrantRevoked(grantId, revocationReason(Provider.ctx?.oidc?.route));
    }
    await this.#db.prisma.oidcPayload.deleteMany({ where: { model: this.#model, grantId } });
  }

  #present(row: { payload: string; expiresAt: Date | null; consumedAt: Date | null } | null): AdapterPayload | undefined {
    if (!row || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    return row.consumedAt ? { ...payload, consumed: Math.floor(row.consumedAt.getTime() / 1000) } : payload;
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
  return (model) => (model === 'Client' ? new SnapshotClientAdapter(deps.policy) : new PrismaModelAdapter(model, deps.db, deps.onGrantRevoked));
}

/** Deletes expired rows; oidc-provider already ignores them on read. */
export async function pruneExpiredOidcRows(db: Database, now = new Date()): Promise<number> {
  const { count } = await db.prisma.oidcPayload.deleteMany({ where: { expiresAt: { lt: now } } });
  return count;
}
