// OAuth clients' rows and their role grants as the administrative CRUD reads and writes them.
// The rules (which grants, secrets, who may have admin access) are in
// src/governance/client-registry.ts; JSON-in-text columns are parsed there.
import { prismaOf, type Reader, type Database, type Tx } from './database.ts';

export interface ClientRow {
  readonly id: string;
  readonly name: string;
  readonly secretHash: string | null;
  /** JSON public JWK Set of a private_key_jwt client (governance/client-jwks.ts). */
  readonly jwks: string | null;
  /** Or where those keys are fetched from (RFC 7591 §2 jwks_uri); never both. */
  readonly jwksUri: string | null;
  /** JSON arrays of strings, as the columns hold them. */
  readonly grantTypes: string;
  readonly redirectUris: string;
  readonly postLogoutRedirectUris: string;
  readonly scopeCeiling: string | null;
  readonly introspectAudience: string | null;
  readonly adminAccess: boolean;
  readonly tlsSubjectDn: string | null;
  readonly tlsSan: string | null;
  readonly tlsBoundTokens: boolean;
  /** self_signed_tls_client_auth: jwks holds the client's certificates (RFC 8705 §2.2). */
  readonly tlsSelfSigned: boolean;
  /** Absent when inserting = false (the column's default). */
  readonly requirePop?: boolean;
  /** OpenID CIBA: poll | ping, null = not allowed; absent when inserting = null. */
  readonly cibaMode?: string | null;
  readonly cibaNotificationEndpoint?: string | null;
  readonly disabled: boolean;
  readonly createdAt: Date;
  readonly secretRotatedAt: Date | null;
  readonly secretExpiresAt: Date | null;
  readonly previousSecretValidUntil: Date | null;
  readonly roles: readonly { roleName: string; expiresAt: Date | null }[];
}

/** A client to insert: its columns (enabled, created now) and the roles it holds without expiry. */
export interface NewClient extends Omit<ClientRow, 'disabled' | 'createdAt' | 'roles' | 'secretRotatedAt' | 'secretExpiresAt' | 'previousSecretValidUntil' | 'tlsSubjectDn' | 'tlsSan' | 'tlsBoundTokens' | 'tlsSelfSigned' | 'jwks' | 'jwksUri'> {
  readonly secretExpiresAt?: Date | null;
  readonly jwks?: string | null;
  readonly jwksUri?: string | null;
  readonly roles: readonly string[];
  /** Mutual TLS registration (governance/client-certificates.ts); absent: none. */
  readonly tlsSubjectDn?: string | null;
  readonly tlsSan?: string | null;
  readonly tlsBoundTokens?: boolean;
  readonly tlsSelfSigned?: boolean;
}

const withRoles = { roles: { orderBy: { roleName: 'asc' as const } } };

export async function insertClient(tx: Tx, c: NewClient): Promise<void> {
  const { roles, ...columns } = c;
  await tx.client.create({ data: { ...columns, roles: { create: roles.map((roleName) => ({ roleName })) } } });
}

export const findClientWithRoles = (h: Reader, id: string): Promise<ClientRow | null> => prismaOf(h).client.findUnique({ where: { id }, include: withRoles });

/** Inside a write that just made or changed the client: it exists. */
export const readClientWithRoles = (tx: Tx, id: string): Promise<ClientRow> => tx.client.findUniqueOrThrow({ where: { id }, include: withRoles });

export const listClientRows = (db: Database): Promise<ClientRow[]> => db.prisma.client.findMany({ orderBy: { createdAt: 'asc' }, include: withRoles });

/** A client as is (no roles): whether it exists. */
export const findClient = (db: Database, id: string): Promise<{ id: string } | null> => db.prisma.client.findUnique({ where: { id } });

export const findClientGrantTypes = (h: Reader, id: string): Promise<{ id: string; grantTypes: string } | null> =>
  prismaOf(h).client.findUnique({ where: { id }, select: { id: true, grantTypes: true } });

export const findClientDisabled = (tx: Tx, id: string): Promise<{ disabled: boolean } | null> => tx.client.findUnique({ where: { id }, select: { disabled: true } });

/** What a rotation writes: the new secret, and the old one kept through a grace (or cleared). */
export interface SecretColumns {
  readonly secretHash: string;
  readonly secretRotatedAt: Date;
  readonly secretExpiresAt: Date | null;
  readonly previousSecretHash: string | null;
  readonly previousSecretValidUntil: Date | null;
}

/** What a change of authentication method writes: every credential column, the unused ones cleared. */
export interface AuthColumns {
  readonly secretHash: string | null;
  readonly secretRotatedAt: Date | null;
  readonly secretExpiresAt: Date | null;
  readonly previousSecretHash: null;
  readonly previousSecretValidUntil: null;
  readonly jwks: string | null;
  readonly jwksUri: string | null;
  readonly tlsSubjectDn: string | null;
  readonly tlsSan: string | null;
  readonly tlsBoundTokens: boolean;
  readonly tlsSelfSigned: boolean;
}

type ClientUpdate = { name?: string | undefined; adminAccess?: boolean | undefined; disabled?: boolean; jwks?: string | null; jwksUri?: string | null; requirePop?: boolean | undefined; cibaMode?: string | null; cibaNotificationEndpoint?: string | null; redirectUris?: string; postLogoutRedirectUris?: string };

export async function updateClientRow(tx: Tx, id: string, data: ClientUpdate | (ClientUpdate & AuthColumns) | SecretColumns): Promise<void> {
  await tx.client.update({ where: { id }, data });
}

export async function replaceClientRoles(tx: Tx, clientId: string, roles: readonly string[]): Promise<void> {
  await tx.clientRole.deleteMany({ where: { clientId } });
  await tx.clientRole.createMany({ data: roles.map((roleName) => ({ clientId, roleName })) });
}

/** Names of the clients among `ids` (audit reports name the clients their records cite). */
export const clientNames = (db: Database, ids: readonly string[]): Promise<{ id: string; name: string }[]> =>
  db.prisma.client.findMany({ where: { id: { in: [...ids] } }, select: { id: true, name: true } });
