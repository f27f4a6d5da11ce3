// oidc-provider's storage adapter (docs § adapter; example/my_adapter.js): one table for every
// model, indexed on grantId, uid, userCode and expiresAt. Clients come from the policy
// snapshot instead (see client-metadata.ts). `consume` is compare-and-set: oidc-provider reads
// then consumes without atomicity, so two concurrent redemptions of one code or refresh token
// would both succeed; with CAS exactly one does and the other gets invalid_grant.
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { currentOidcContext } from './seams.ts';
import type { Database } from '../db/database.ts';
import {
  consumeOidcRow,
  deleteOidcRow,
  deleteOidcRowsOfGrant,
  findOidcRow,
  grantIdOfOidcRow,
  linkGrantToSession,
  upsertOidcRow,
  type OidcLookup,
  type OidcRow,
} from '../db/oidc-storage.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { Clock } from '../time/clock.ts';
import { toClientMetadata } from './client-metadata.ts';
import { accountClientMetadata, isAccountClient } from './account-session.ts';
import type { ClientRegistrations } from './client-registration.ts';

/** Called when oidc-provider revokes a grant (refresh-token reuse, code replay, sign-out). */
export type GrantRevokedHook = (grantId: string, reason: string) => Promise<void>;

class SqlModelAdapter implements Adapter {
  readonly #model: string;
  readonly #db: Database;
  readonly #onGrantRevoked: GrantRevokedHook | undefined;
  readonly #now: Clock;
  constructor(model: string, db: Database, now: Clock, onGrantRevoked?: GrantRevokedHook) {
    this.#model = model;
    this.#db = db;
    this.#now = now;
    this.#onGrantRevoked = onGrantRevoked;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    await upsertOidcRow(this.#db, this.#model, id, {
      payload: JSON.stringify(payload),
      grantId: payload.grantId ?? null,
      accountId: payload.accountId ?? null,
      clientId: payload.clientId ?? null,
      uid: payload.uid ?? null,
      userCode: payload.userCode ?? null,
      expiresAt: expiresIn ? new Date(this.#now() + expiresIn * 1000) : null,
    });
    // A grant is created at consent, outside any browser-session context; the code issued from
    // it is the first record that names the session. Linking the Grant row to that session
    // lets sign-out end every grant issued in it (sign-out-revocation.ts), including earlier
    // grants of an app that consented again, which the session itself no longer lists.
    if (this.#model === 'AuthorizationCode' && typeof payload.sessionUid === 'string' && payload.grantId) {
      await linkGrantToSession(this.#db, payload.grantId, payload.sessionUid);
    }
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.#present(await this.#row('id', id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#present(await this.#row('uid', uid));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#present(await this.#row('userCode', userCode));
  }

  async consume(id: string): Promise<void> {
    if (!(await consumeOidcRow(this.#db, this.#model, id, new Date(this.#now())))) {
      // Another redemption of this code consumed it between oidc-provider's read and this write.
      // A code used more than once is refused, and the tokens issued from it SHOULD be revoked
      // (RFC 6749 §4.1.2, RFC 9700 §4.5): oidc-provider does so for a replay it sees, not for
      // this race, so the winner's grant is revoked here before the loser hears invalid_grant.
      if (this.#model === 'AuthorizationCode' && this.#onGrantRevoked) {
        const grantId = await grantIdOfOidcRow(this.#db, this.#model, id);
        if (grantId) await this.#onGrantRevoked(grantId, 'authorization code redeemed twice at once');
      }
      throw new errors.InvalidGrant('grant request is invalid');
    }
  }

  async destroy(id: string): Promise<void> {
    await deleteOidcRow(this.#db, this.#model, id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    // oidc-provider revokes a grant through every token model, always including AccessToken
    // (lib/helpers/revoke.js), and awaits it. JWT access tokens are not stored, so this is where
    // the grant revocation is recorded, durably, before oidc-provider answers.
    if (this.#model === 'AccessToken' && this.#onGrantRevoked) {
      await this.#onGrantRevoked(grantId, revocationReason(currentOidcContext()?.oidc?.route));
    }
    await deleteOidcRowsOfGrant(this.#db, this.#model, grantId);
  }

  #row(by: OidcLookup, value: string): Promise<OidcRow | undefined> {
    return findOidcRow(this.#db, this.#model, by, value);
  }

  #present(row: OidcRow | undefined): AdapterPayload | undefined {
    if (!row) return undefined;
    // An expired CIBA request is still found until pruned: oidc-provider then answers the agent
    // expired_token (OpenID CIBA Core §11) rather than invalid_grant; it checks expiry itself
    // (lib/actions/grants/ciba.js), and nothing else reads one.
    if (row.expiresAt !== null && row.expiresAt <= this.#now() && this.#model !== 'BackchannelAuthenticationRequest') return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    return row.consumedAt !== null ? { ...payload, consumed: Math.floor(row.consumedAt / 1000) } : payload;
  }
}

class SnapshotClientAdapter implements Adapter {
  readonly #policy: PolicyStore;
  readonly #issuer: string | undefined;
  readonly #registrations: ClientRegistrations | undefined;
  readonly #ciba: boolean;
  constructor(policy: PolicyStore, issuer: string | undefined, registrations: ClientRegistrations | undefined, ciba: boolean) {
    this.#ciba = ciba;
    this.#policy = policy;
    this.#issuer = issuer;
    this.#registrations = registrations;
  }
  find(id: string): Promise<AdapterPayload | undefined> {
    // The account pages' and the console's own clients, known only in code (account-session.ts), beside the catalogue.
    if (isAccountClient(id)) return Promise.resolve(this.#issuer === undefined ? undefined : accountClientMetadata(this.#issuer, id));
    const client = this.#policy.snapshot().clients.get(id);
    // A metadata document client is resolved from its URL by oidc-provider (fetched, cached),
    // never served from here: the snapshot holds only governance's record of it.
    if (client?.selfRegistered?.kind === 'metadata_document') return Promise.resolve(undefined);
    return Promise.resolve(client && toClientMetadata(client, this.#ciba));
  }
  // RFC 7591 registration and RFC 7592 update/delete (client-registration.ts); without them
  // clients are managed with the CLI and the admin API only.
  upsert(id: string, payload: AdapterPayload): Promise<void> {
    return this.#registrations ? this.#registrations.upsert(id, payload) : Promise.reject(new TypeError('clients are read-only through the protocol'));
  }
  destroy(id: string): Promise<void> {
    return this.#registrations ? this.#registrations.destroy(id) : Promise.resolve();
  }
  findByUid = (): Promise<undefined> => Promise.resolve(undefined);
  findByUserCode = (): Promise<undefined> => Promise.resolve(undefined);
  consume = (): Promise<void> => Promise.resolve();
  revokeByGrantId = (): Promise<void> => Promise.resolve();
}

function revocationReason(route: string | undefined): string {
  if (route === 'token') return 'refresh token reuse or authorization code replay';
  if (route?.startsWith('end_session')) return 'signed out';
  return `revoked by the protocol (${route ?? 'unknown route'})`;
}

/**
 * `now` is the server's clock (the provider's deps); `issuer` serves the account pages' client
 * (account-session.ts): a test building adapters alone may leave it out.
 */
export function createAdapterFactory(deps: { db: Database; policy: PolicyStore; now: Clock; issuer?: string; onGrantRevoked?: GrantRevokedHook; registrations?: ClientRegistrations; ciba?: boolean }): (model: string) => Adapter {
  return (model) => (model === 'Client' ? new SnapshotClientAdapter(deps.policy, deps.issuer, deps.registrations, deps.ciba === true) : new SqlModelAdapter(model, deps.db, deps.now, deps.onGrantRevoked));
}
