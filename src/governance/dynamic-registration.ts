// RFC 7591 dynamic client registration under governance: what a client may register for itself
// and how it lands in the catalogue. The metadata is judged by the rules `govauth client create`
// applies (client-registry.ts createClient, validation.ts), plus what only a stranger's
// registration needs: an authorization-code client only (no roles, no admin access, no
// client_credentials: those are an administrator's to give), a secret it authenticates with by
// client_secret_basic or none, and redirect URIs a web app can only have with https.
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import { findClientWithRoles, updateClientRow } from '../db/client-repository.ts';
import type { Database } from '../db/database.ts';
import { findSelfRegisteredRow, updateSelfRegisteredRow } from '../db/self-registration-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { createClient } from './client-registry.ts';
import { checkRedirectUri, checkText, uniqueList } from './validation.ts';

/** Why registration metadata is refused (RFC 7591 §3.2.2): the OAuth error and its description. */
export class RegistrationRefused extends Error {
  readonly error: 'invalid_client_metadata' | 'invalid_redirect_uri';
  constructor(error: RegistrationRefused['error'], description: string) {
    super(description);
    this.name = 'RegistrationRefused';
    this.error = error;
  }
}

const REGISTRABLE_GRANTS = new Set(['authorization_code', 'refresh_token']);
const REGISTRABLE_AUTH = new Set(['client_secret_basic', 'none']);
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** What govauth keeps of a registration (the rest is oidc-provider's, checked by its schema). */
export interface RegistrationFacts {
  readonly name: string;
  readonly redirectUris: string[];
  readonly postLogoutRedirectUris: string[];
  readonly isPublic: boolean;
  /** `native` when the client said so, or when every redirect URI is loopback http (RFC 8252 §7.3). */
  readonly applicationType: 'web' | 'native';
}

const isLoopbackHttp = (uri: string): boolean => {
  const u = URL.parse(uri);
  return u?.protocol === 'http:' && LOOPBACK.has(u.hostname);
};

function redirects(value: unknown, label: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new RegistrationRefused('invalid_redirect_uri', `${label} must be an array of strings`);
  try {
    return uniqueList(value, checkRedirectUri);
  } catch (err) {
    if (err instanceof AppError) throw new RegistrationRefused('invalid_redirect_uri', `${label}: ${err.message}`);
    throw err;
  }
}

/**
 * Judges registration metadata (RFC 7591 §2) before oidc-provider's own schema: throws
 * RegistrationRefused, or returns the facts govauth stores. `metadata` is what the client sent
 * with oidc-provider's defaults for what it left out, so `declaredType` is the application_type
 * the client itself sent (undefined: none).
 */
export function checkRegistrationMetadata(metadata: Readonly<Record<string, unknown>>, declaredType: unknown): RegistrationFacts {
  const refuse = (d: string): never => {
    throw new RegistrationRefused('invalid_client_metadata', d);
  };
  const grants = metadata.grant_types ?? ['authorization_code'];
  if (!Array.isArray(grants) || !grants.every((g) => typeof g === 'string' && REGISTRABLE_GRANTS.has(g))) {
    refuse('grant_types: a client registers itself for authorization_code (with refresh_token) only; other grants are given by an administrator (govauth client create)');
  }
  const auth = metadata.token_endpoint_auth_method ?? 'client_secret_basic';
  if (typeof auth !== 'string' || !REGISTRABLE_AUTH.has(auth)) refuse('token_endpoint_auth_method must be client_secret_basic or none');
  if (metadata.jwks !== undefined || metadata.jwks_uri !== undefined) refuse('jwks and jwks_uri are not accepted at registration: register keys through an administrator (govauth client create --jwks-file)');
  const redirectUris = redirects(metadata.redirect_uris, 'redirect_uris');
  if (!redirectUris.length) throw new RegistrationRefused('invalid_redirect_uri', 'redirect_uris must list at least one redirect URI');
  const postLogoutRedirectUris = redirects(metadata.post_logout_redirect_uris, 'post_logout_redirect_uris');
  const declared = declaredType;
  if (declared !== undefined && declared !== 'web' && declared !== 'native') refuse('application_type must be web or native');
  // RFC 8252 §7.3: loopback http is a native app's redirect. A web app redirects over https
  // only; a client that says nothing and redirects only to loopback is a native app.
  const applicationType: 'web' | 'native' = declared === 'web' || declared === 'native' ? declared : redirectUris.every(isLoopbackHttp) ? 'native' : 'web';
  if (applicationType === 'web') {
    const bad = redirectUris.find((u) => !u.startsWith('https:'));
    if (bad) throw new RegistrationRefused('invalid_redirect_uri', `redirect_uris of a web application must use https (${bad}); loopback http is for native applications (application_type native, RFC 8252 §7.3)`);
  }
  let name: string;
  try {
    name = checkText(typeof metadata.client_name === 'string' ? metadata.client_name : 'unnamed self-registered client', 'client_name', 200);
  } catch (err) {
    if (err instanceof AppError) return refuse(err.message);
    throw err;
  }
  return { name, redirectUris, postLogoutRedirectUris, isPublic: auth === 'none', applicationType };
}

/** Stores a registration oidc-provider accepted: a catalogue client, recorded as self-registered. */
export async function registerDynamicClient(db: Database, registered: { clientId: string; clientSecret: string | null }, facts: RegistrationFacts, by: Actor, now: number): Promise<void> {
  await createClient(db, { name: facts.name, grants: ['authorization_code'], redirectUris: facts.redirectUris, postLogoutRedirectUris: facts.postLogoutRedirectUris, isPublic: facts.isPublic }, by, now, { allowPrivate: false }, registered);
}

/** RFC 7592 §2.2: the client replaces its name and redirect URIs (never its standing or ceilings). */
export async function updateDynamicClient(db: Database, clientId: string, facts: RegistrationFacts, by: Actor): Promise<void> {
  await writeWithChanges(db, async (tx) => {
    const before = await findClientWithRoles(tx, clientId);
    if (!before || !(await findSelfRegisteredRow(tx, clientId))) throw new AppError('not_found', `no self-registered client ${clientId}`);
    if ((before.secretHash === null) !== facts.isPublic) throw new RegistrationRefused('invalid_client_metadata', 'token_endpoint_auth_method cannot change after registration: register a new client');
    const redirectUris = JSON.stringify(facts.redirectUris);
    await updateClientRow(tx, clientId, { name: facts.name, redirectUris, postLogoutRedirectUris: JSON.stringify(facts.postLogoutRedirectUris) });
    await updateSelfRegisteredRow(tx, clientId, { name: facts.name, redirectUris });
    const view = (c: { name: string; redirectUris: string }) => ({ name: c.name, redirect_uris: JSON.parse(c.redirectUris) as unknown });
    return { result: undefined, changes: [{ kind: 'client', key: clientId }], audit: [adminEvent(by, 'client.registration_updated', clientId, view(before), view({ name: facts.name, redirectUris }))] };
  });
}

/**
 * RFC 7592 §2.3: the client deregisters. It is disabled, not erased: the audit trail and the
 * review keep naming it, and its client_id never works again (invalid_client).
 */
export async function deregisterDynamicClient(db: Database, clientId: string, by: Actor): Promise<void> {
  await writeWithChanges(db, async (tx) => {
    await updateClientRow(tx, clientId, { disabled: true });
    return { result: undefined, changes: [{ kind: 'client', key: clientId }], audit: [adminEvent(by, 'client.deregistered', clientId, null, { disabled: true })] };
  });
}
