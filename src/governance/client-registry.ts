// OAuth clients: AI services and bots (client_credentials), agents acting for people (token
// exchange, RFC 8693), resource servers that introspect, and web and native apps. The secret is returned once, at creation or rotation, and
// stored only as an argon2id hash.
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import { existingScopeNames, findResource } from '../db/catalog-repository.ts';
import {
  findClientDisabled,
  findClientWithRoles,
  insertClient,
  listClientRows,
  readClientWithRoles,
  replaceClientRoles,
  updateClientRow,
  type ClientRow,
} from '../db/client-repository.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { parseStringArray } from './policy-loader.ts';
import { checkGrants, CLIENT_GRANTS, grantNames, mayHoldRoles, ROLES_RULE, SECRET_GRANTS, storedGrantTypes } from './client-grants.ts';
import { hashSecret, newClientId, newClientSecret } from './client-secrets.ts';
import { mustExist, requireRoles } from './catalog.ts';
import { checkAudience, checkRedirectUri, checkRoleName, checkScopeName, checkText, uniqueList } from './validation.ts';

export interface CreateClientInput {
  readonly name: string;
  readonly grants?: readonly string[];
  readonly roles?: readonly string[];
  /** Resource servers: the audience whose tokens this client may introspect. */
  readonly introspectAudience?: string;
  readonly redirectUris?: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
  readonly scopeCeiling?: readonly string[];
  readonly isPublic?: boolean;
  /** May obtain tokens for the admin API (policy-model.ts mayUseAudience). */
  readonly adminAccess?: boolean;
  /** Its access tokens only sender-constrained: DPoP (RFC 9449) or mTLS (RFC 8705). */
  readonly requirePop?: boolean;
}

export interface ClientCredentialsView {
  client_id: string;
  client_secret: string | null;
}

export interface ClientView {
  client_id: string;
  name: string;
  grant_types: string[];
  roles: { role: string; expires_at: string | null }[];
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  scope_ceiling: string[] | null;
  introspect_audience: string | null;
  admin_access: boolean;
  require_pop: boolean;
  public: boolean;
  disabled: boolean;
  created_at: string;
}

/**
 * Admin access is for clients that keep a secret: a public client cannot authenticate, so
 * anyone can start a sign-in in its name (RFC 6749 §2.1, RFC 8252 §8.4), and its tokens live in
 * a browser or device. Without a grant it could not obtain a token in the first place.
 */
function checkAdminAccess(isPublic: boolean, grants: readonly string[]): void {
  if (isPublic) throw new AppError('invalid_request', 'admin access cannot be given to a public client: it has no secret, so anyone can act in its name');
  if (!grants.length) throw new AppError('invalid_request', `admin access applies to a client that obtains tokens (${CLIENT_GRANTS.join(', ')})`);
}

export async function createClient(db: Database, input: CreateClientInput, by: Actor): Promise<ClientCredentialsView> {
  const name = checkText(input.name, 'name', 200);
  const grants = checkGrants(input.grants ?? []);
  const roles = uniqueList(input.roles ?? [], checkRoleName);
  const introspectAudience = input.introspectAudience === undefined ? null : checkAudience(input.introspectAudience);
  const redirectUris = uniqueList(input.redirectUris ?? [], checkRedirectUri);
  const postLogoutRedirectUris = uniqueList(input.postLogoutRedirectUris ?? [], checkRedirectUri);
  const ceiling = input.scopeCeiling === undefined ? null : uniqueList(input.scopeCeiling, checkScopeName);
  const isPublic = input.isPublic === true;
  const adminAccess = input.adminAccess === true;
  if (adminAccess) checkAdminAccess(isPublic, grants);

  if (!grants.length && !introspectAudience) {
    throw new AppError('invalid_request', `a client needs a grant (--grant ${CLIENT_GRANTS.join(' | ')}) or --resource <audience> --introspect`);
  }
  if (grants.includes('authorization_code') && !redirectUris.length) {
    throw new AppError('invalid_request', 'an authorization_code client needs at least one --redirect-uri');
  }
  if (!grants.includes('authorization_code') && (redirectUris.length || postLogoutRedirectUris.length)) {
    throw new AppError('invalid_request', '--redirect-uri and --post-logout-redirect-uri only apply to authorization_code clients');
  }
  if (isPublic && (grants.some((g) => SECRET_GRANTS.includes(g)) || introspectAudience)) {
    throw new AppError('invalid_request', 'a public client has no secret, so it cannot use client_credentials, token-exchange (an agent must authenticate) or introspection');
  }
  if (roles.length && !mayHoldRoles(grants)) throw new AppError('invalid_request', ROLES_RULE);
  const grantTypes = storedGrantTypes(grants);

  const clientId = newClientId();
  const clientSecret = isPublic ? null : newClientSecret();
  const secretHash = clientSecret === null ? null : await hashSecret(clientSecret);

  await writeWithChanges(db, async (tx) => {
    await requireRoles(tx, roles);
    if (introspectAudience) await mustExist(findResource(tx, introspectAudience), `no resource ${introspectAudience} (create it first with: govauth resource create)`);
    if (ceiling?.length) {
      const found = await existingScopeNames(tx, ceiling);
      const missing = ceiling.filter((s) => !found.includes(s));
      if (missing.length) throw new AppError('invalid_request', `unknown scope(s): ${missing.join(', ')}`);
    }
    await insertClient(tx, {
      id: clientId,
      name,
      secretHash,
      grantTypes: JSON.stringify(grantTypes),
      redirectUris: JSON.stringify(redirectUris),
      postLogoutRedirectUris: JSON.stringify(postLogoutRedirectUris),
      scopeCeiling: ceiling === null ? null : JSON.stringify(ceiling),
      introspectAudience,
      adminAccess,
      requirePop: input.requirePop === true,
      roles,
    });
    const after = clientView(await readClientWithRoles(tx, clientId));
    return { result: undefined, changes: [{ kind: 'client', key: clientId }], audit: [adminEvent(by, 'admin.client.create', clientId, null, after)] };
  });
  return { client_id: clientId, client_secret: clientSecret };
}

function clientView(c: ClientRow): ClientView {
  return {
    client_id: c.id,
    name: c.name,
    grant_types: grantNames(parseStringArray(c.grantTypes, 'Client.grantTypes')),
    roles: c.roles.map((r) => ({ role: r.roleName, expires_at: r.expiresAt?.toISOString() ?? null })),
    redirect_uris: parseStringArray(c.redirectUris, 'Client.redirectUris'),
    post_logout_redirect_uris: parseStringArray(c.postLogoutRedirectUris, 'Client.postLogoutRedirectUris'),
    scope_ceiling: c.scopeCeiling === null ? null : parseStringArray(c.scopeCeiling, 'Client.scopeCeiling'),
    introspect_audience: c.introspectAudience,
    admin_access: c.adminAccess,
    require_pop: c.requirePop === true,
    public: c.secretHash === null,
    disabled: c.disabled,
    created_at: c.createdAt.toISOString(),
  };
}

export async function listClients(db: Database): Promise<ClientView[]> {
  return (await listClientRows(db)).map(clientView);
}

export async function getClient(db: Database, id: string): Promise<ClientView> {
  return clientView(await mustExist(findClientWithRoles(db, id), `no client ${id}`));
}

export async function rotateClientSecret(db: Database, id: string, by: Actor, now: number): Promise<ClientCredentialsView> {
  const existing = await mustExist(findClientWithRoles(db, id), `no client ${id}`);
  if (existing.secretHash === null) throw new AppError('invalid_request', `client ${id} is public and has no secret`);
  const clientSecret = newClientSecret();
  const secretHash = await hashSecret(clientSecret);
  await writeWithChanges(db, async (tx) => {
    await updateClientRow(tx, id, { secretHash, secretRotatedAt: new Date(now) });
    // The secret itself is never recorded, only that it changed.
    return { result: undefined, changes: [{ kind: 'client', key: id }], audit: [adminEvent(by, 'admin.client.rotate_secret', id, null, null, { secret_rotated: true })] };
  });
  return { client_id: id, client_secret: clientSecret };
}

export async function setClientDisabled(db: Database, id: string, disabled: boolean, by: Actor): Promise<ClientView> {
  await writeWithChanges(db, async (tx) => {
    const before = await mustExist(findClientDisabled(tx, id), `no client ${id}`);
    await updateClientRow(tx, id, { disabled });
    return {
      result: undefined,
      changes: [{ kind: 'client', key: id }],
      audit: [adminEvent(by, disabled ? 'admin.client.disable' : 'admin.client.enable', id, { disabled: before.disabled }, { disabled })],
    };
  });
  return getClient(db, id);
}

export async function updateClient(db: Database, id: string, patch: { name?: string; roles?: readonly string[]; adminAccess?: boolean; requirePop?: boolean }, by: Actor): Promise<ClientView> {
  const name = patch.name === undefined ? undefined : checkText(patch.name, 'name', 200);
  const roles = patch.roles && uniqueList(patch.roles, checkRoleName);
  await writeWithChanges(db, async (tx) => {
    const row = await mustExist(findClientWithRoles(tx, id), `no client ${id}`);
    const before = clientView(row);
    if (roles) {
      if (!mayHoldRoles(before.grant_types)) throw new AppError('invalid_request', ROLES_RULE);
      await requireRoles(tx, roles);
      await replaceClientRoles(tx, id, roles);
    }
    if (patch.adminAccess === true) checkAdminAccess(before.public, before.grant_types);
    if (name !== undefined || patch.adminAccess !== undefined || patch.requirePop !== undefined) {
      await updateClientRow(tx, id, { name, adminAccess: patch.adminAccess, requirePop: patch.requirePop });
    }
    const after = clientView(await readClientWithRoles(tx, id));
    const audit = [];
    if (name !== undefined || roles) audit.push(adminEvent(by, 'admin.client.update', id, before, after));
    // Its own action, so that a SIEM can alert on who was given the admin API (or lost it).
    if (before.admin_access !== after.admin_access) audit.push(adminEvent(by, 'admin.client.admin_access', id, { admin_access: before.admin_access }, { admin_access: after.admin_access }));
    // Its own action too: dropping the requirement is a security downgrade worth alerting on.
    if (before.require_pop !== after.require_pop) audit.push(adminEvent(by, 'admin.client.require_pop', id, { require_pop: before.require_pop }, { require_pop: after.require_pop }));
    return { result: undefined, changes: [{ kind: 'client', key: id }], audit };
  });
  return getClient(db, id);
}
