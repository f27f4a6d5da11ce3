// Reads the governance catalogue (scopes, resources, roles, clients) into the immutable
// PolicySnapshot the hot path uses. JSON-in-text columns are validated here, at the edge.
import type { ClientDef, PolicySnapshot, ResourceDef, RoleDef, ScopeDef, Sensitivity, UserDef } from './policy-model.ts';
import type { Database } from '../db/database.ts';
import { parseStoredJwks } from './client-jwks.ts';
import { parseRequiredFactor } from './factors.ts';
import type { DelegationDef } from './delegation.ts';
import { loadCatalogRows, loadPersonRow, loadPersonRows, type PersonRow, type ScopeGrantRef } from '../db/policy-repository.ts';
import type { ScopeGrant } from './scope-grants-model.ts';
import { selfRegisteredClientDefs, toTrustPolicy } from './self-registered-clients.ts';
import { withConsoleClient } from './console-client.ts';

export function parseStringArray(json: string | null, column: string): string[] {
  if (json === null) return [];
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new TypeError(`${column} must hold a JSON array of strings`);
  }
  return value;
}

const toScopeGrant = (g: ScopeGrantRef): ScopeGrant => ({ audience: g.audience, scope: g.scopeName, expiresAt: g.expiresAt.getTime() });

export async function loadPolicySnapshot(db: Database): Promise<PolicySnapshot> {
  const { scopes, resources, roles, clients, delegationPolicies, standingDelegations, selfRegistered, trustPolicy: policyRow } = await loadCatalogRows(db);
  const scopeDefs = new Map(
      scopes.map((s): [string, ScopeDef] => [
        s.name,
        { name: s.name, description: s.description, sensitivity: s.sensitivity as Sensitivity, maxTtl: s.maxTtl, requireAcr: s.requireAcr === null ? null : 'phr' },
      ]),
  );
  const trustPolicy = toTrustPolicy(policyRow);
  const catalogue = new Map(
      clients.map((c): [string, ClientDef] => [
        c.id,
        {
          id: c.id,
          name: c.name,
          secretHash: c.secretHash,
          secretExpiresAt: c.secretExpiresAt?.getTime() ?? null,
          previousSecretHash: c.previousSecretHash,
          previousSecretValidUntil: c.previousSecretValidUntil?.getTime() ?? null,
          jwks: parseStoredJwks(c.jwks),
          jwksUri: c.jwksUri,
          grantTypes: parseStringArray(c.grantTypes, 'Client.grantTypes'),
          redirectUris: parseStringArray(c.redirectUris, 'Client.redirectUris'),
          postLogoutRedirectUris: parseStringArray(c.postLogoutRedirectUris, 'Client.postLogoutRedirectUris'),
          scopeCeiling: c.scopeCeiling === null ? null : new Set(parseStringArray(c.scopeCeiling, 'Client.scopeCeiling')),
          introspectAudience: c.introspectAudience,
          adminAccess: c.adminAccess,
          tlsSubjectDn: c.tlsSubjectDn,
          tlsSan: c.tlsSan,
          tlsBoundTokens: c.tlsBoundTokens,
          tlsSelfSigned: c.tlsSelfSigned,
          requirePop: c.requirePop,
          ...(c.cibaMode !== null && { ciba: { mode: c.cibaMode === 'ping' ? 'ping' : 'poll', notificationEndpoint: c.cibaNotificationEndpoint } }),
          disabled: c.disabled,
          roles: c.roles.map((g) => ({ role: g.roleName, expiresAt: g.expiresAt?.getTime() ?? null })),
          scopeGrants: c.scopeGrants.map(toScopeGrant),
          createdAt: c.createdAt.getTime(),
        },
      ]),
  );
  return {
    scopes: scopeDefs,
    trustPolicy,
    resources: new Map(
      resources.map((r): [string, ResourceDef] => [
        r.audience,
        { audience: r.audience, name: r.name, tokenTtl: r.tokenTtl, requirePop: r.requirePop, scopes: new Set(r.scopes.map((x) => x.scopeName)) },
      ]),
    ),
    roles: new Map(
      roles.map((r): [string, RoleDef] => [
        r.name,
        {
          name: r.name,
          description: r.description,
          scopes: new Set(r.scopes.map((x) => x.scopeName)),
          includes: new Set(r.includes.map((x) => x.includedName)),
          requireFactor: parseRequiredFactor(r.requireFactor),
        },
      ]),
    ),
    clients: withConsoleClient(selfRegisteredClientDefs(catalogue, selfRegistered, trustPolicy, scopeDefs)),
    delegations: new Map<string, DelegationDef>([
      ...delegationPolicies.map((d): [string, DelegationDef] => [
        d.id,
        {
          kind: 'policy',
          id: d.id,
          agentRole: d.agentRole,
          subjectRole: d.subjectRole,
          audience: d.audience,
          scopes: d.scopes === null ? null : new Set(parseStringArray(d.scopes, 'DelegationPolicy.scopes')),
          maxDepth: d.maxDepth,
          maxTtl: d.maxTtl,
          description: d.description,
        },
      ]),
      ...standingDelegations.map((d): [string, DelegationDef] => [
        d.id,
        {
          kind: 'standing',
          id: d.id,
          userId: d.userId,
          clientId: d.clientId,
          audience: d.audience,
          scopes: new Set(parseStringArray(d.scopes, 'StandingDelegation.scopes')),
          maxDepth: d.maxDepth,
          expiresAt: d.expiresAt?.getTime() ?? null,
        },
      ]),
    ]),
  };
}

function toUserDef(u: PersonRow): UserDef {
  return {
    id: u.id,
    email: u.email,
    disabled: u.disabled,
    mfaEnrolled: u.mfaEnrolledAt !== null || u._count.passkeys > 0,
    totpEnrolled: u.mfaEnrolledAt !== null,
    passkeys: u._count.passkeys,
    roles: u.roles.map((g) => ({ role: g.roleName, expiresAt: g.expiresAt?.getTime() ?? null })),
    scopeGrants: u.scopeGrants.map(toScopeGrant),
    createdAt: u.createdAt.getTime(),
  };
}

export async function loadUsers(db: Database): Promise<Map<string, UserDef>> {
  const rows = await loadPersonRows(db);
  return new Map(rows.map((u) => [u.id, toUserDef(u)]));
}

export async function loadUser(db: Database, id: string): Promise<UserDef | undefined> {
  const row = await loadPersonRow(db, id);
  return row ? toUserDef(row) : undefined;
}
