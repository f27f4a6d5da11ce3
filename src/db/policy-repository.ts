// The rows the in-memory policy is built from: the whole catalogue (scopes, resources, roles,
// clients with their grants) and people with their grants. src/governance/policy-loader.ts
// turns them into the PolicySnapshot the hot path reads.
import type { Database } from './database.ts';
import { findTrustPolicyRow, listSelfRegisteredRows, type SelfRegisteredRow, type TrustPolicyRow } from './self-registration-repository.ts';

/** A time-boxed grant of one scope on one resource (UserScopeGrant, ClientScopeGrant). */
export interface ScopeGrantRef {
  readonly audience: string;
  readonly scopeName: string;
  readonly expiresAt: Date;
}

const scopeGrantSelect = { select: { audience: true, scopeName: true, expiresAt: true } } as const;

export interface CatalogRows {
  readonly scopes: readonly { name: string; description: string; sensitivity: string; maxTtl: number | null; requireAcr: string | null }[];
  readonly resources: readonly { audience: string; name: string; tokenTtl: number | null; requirePop: boolean; scopes: { scopeName: string }[] }[];
  readonly roles: readonly { name: string; description: string; requireFactor: string | null; scopes: { scopeName: string }[]; includes: { includedName: string }[] }[];
  readonly clients: readonly {
    id: string;
    name: string;
    secretHash: string | null;
    secretExpiresAt: Date | null;
    previousSecretHash: string | null;
    previousSecretValidUntil: Date | null;
    jwks: string | null;
    jwksUri: string | null;
    grantTypes: string;
    redirectUris: string;
    postLogoutRedirectUris: string;
    scopeCeiling: string | null;
    introspectAudience: string | null;
    adminAccess: boolean;
    tlsSubjectDn: string | null;
    tlsSan: string | null;
    tlsBoundTokens: boolean;
    tlsSelfSigned: boolean;
    requirePop: boolean;
    cibaMode: string | null;
    cibaNotificationEndpoint: string | null;
    disabled: boolean;
    roles: { roleName: string; expiresAt: Date | null }[];
    scopeGrants: ScopeGrantRef[];
    createdAt: Date;
  }[];
  readonly delegationPolicies: readonly DelegationPolicyRow[];
  readonly standingDelegations: readonly StandingDelegationRow[];
  /** Self-registered clients and their trust policy (null: the defaults). */
  readonly selfRegistered: readonly SelfRegisteredRow[];
  readonly trustPolicy: TrustPolicyRow | null;
}

export interface DelegationPolicyRow {
  readonly id: string;
  readonly agentRole: string;
  readonly subjectRole: string;
  readonly audience: string;
  readonly scopes: string | null;
  readonly maxDepth: number;
  readonly maxTtl: number | null;
  readonly description: string;
  readonly createdAt: Date;
}

export interface StandingDelegationRow {
  readonly id: string;
  readonly userId: string;
  readonly clientId: string;
  readonly audience: string;
  readonly scopes: string;
  readonly maxDepth: number;
  readonly expiresAt: Date | null;
  readonly createdAt: Date;
}

export interface PersonRow {
  readonly id: string;
  readonly email: string;
  readonly disabled: boolean;
  readonly mfaEnrolledAt: Date | null;
  readonly roles: readonly { roleName: string; expiresAt: Date | null }[];
  readonly scopeGrants: readonly ScopeGrantRef[];
  readonly _count: { readonly passkeys: number };
  readonly createdAt: Date;
}

export async function loadCatalogRows(db: Database): Promise<CatalogRows> {
  const [scopes, resources, roles, clients, delegationPolicies, standingDelegations, selfRegistered, trustPolicy] = await Promise.all([
    db.prisma.scope.findMany(),
    db.prisma.resource.findMany({ include: { scopes: { select: { scopeName: true } } } }),
    db.prisma.role.findMany({ include: { scopes: { select: { scopeName: true } }, includes: { select: { includedName: true } } } }),
    db.prisma.client.findMany({ include: { roles: { select: { roleName: true, expiresAt: true } }, scopeGrants: scopeGrantSelect } }),
    db.prisma.delegationPolicy.findMany(),
    db.prisma.standingDelegation.findMany(),
    listSelfRegisteredRows(db),
    findTrustPolicyRow(db),
  ]);
  return { scopes, resources, roles, clients, delegationPolicies, standingDelegations, selfRegistered, trustPolicy };
}

const personSelect = {
  id: true,
  email: true,
  disabled: true,
  mfaEnrolledAt: true,
  roles: { select: { roleName: true, expiresAt: true } },
  scopeGrants: scopeGrantSelect,
  _count: { select: { passkeys: true } },
  createdAt: true,
} as const;

export const loadPersonRows = (db: Database): Promise<PersonRow[]> => db.prisma.user.findMany({ select: personSelect });

export const loadPersonRow = (db: Database, id: string): Promise<PersonRow | null> => db.prisma.user.findUnique({ where: { id }, select: personSelect });
