// Clients that identify or register themselves (MCP onboarding): a Client ID Metadata Document
// (draft-ietf-oauth-client-id-metadata-document: the client_id is an https URL whose JSON
// document describes the client) or RFC 7591 dynamic registration. Nobody in the organisation
// vetted such a client, so governance caps it: the trust policy names the hosts the
// organisation trusts and the most an unvetted client may ever receive; an administrator
// approves, restricts (its own ceiling) or blocks each one. Pure: the snapshot loader turns a
// client's standing into its ClientDef (scopeCeiling, resourceCeiling, disabled), and the one
// per-scope rule (policy-model.ts withheldReason) and audience rule (mayUseAudience) enforce it
// at every issuance (code, refresh, token exchange) and every introspection.
import { AppError } from '../errors/app-error.ts';
import type { ScopeDef } from './policy-model.ts';

export type SelfRegistrationKind = 'metadata_document' | 'dynamic';
export const TRUST_DECISIONS = ['unreviewed', 'approved', 'restricted', 'blocked'] as const;
export type TrustDecision = (typeof TRUST_DECISIONS)[number];

export interface TrustPolicy {
  /** Exact hosts (`mcp.example.com`) or one-label wildcards (`*.example.com`). */
  readonly trustedHosts: readonly string[];
  /** Metadata documents from hosts not trusted: accepted as unvetted clients, or refused (invalid_client). */
  readonly allowUnknownHosts: boolean;
  /** The most an unvetted client may ever receive; null = every scope below high sensitivity. */
  readonly scopeCeiling: ReadonlySet<string> | null;
  /** Audiences an unvetted client may receive tokens for; null = any resource. */
  readonly resourceCeiling: ReadonlySet<string> | null;
}

export const DEFAULT_TRUST_POLICY: TrustPolicy = { trustedHosts: [], allowUnknownHosts: true, scopeCeiling: null, resourceCeiling: null };

/** What governance knows about one self-registered client (SelfRegisteredClient row). */
export interface SelfRegistration {
  readonly kind: SelfRegistrationKind;
  /** Metadata documents: the URL's host, the domain the client proved it controls (it serves the document). */
  readonly host: string | null;
  readonly trust: TrustDecision;
  /** Restricted: its own ceiling (null: the trust policy's). */
  readonly scopeCeiling: ReadonlySet<string> | null;
  readonly resourceCeiling: ReadonlySet<string> | null;
}

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A trusted-host entry: a DNS host name, or `*.` and a name of at least two labels. */
export function checkHostPattern(raw: string): string {
  const value = raw.trim().toLowerCase();
  const name = value.startsWith('*.') ? value.slice(2) : value;
  const labels = name.split('.');
  const ok = value.length <= 253 && labels.every((l) => HOST_LABEL.test(l)) && (!value.startsWith('*.') || labels.length >= 2);
  if (!ok) throw new AppError('invalid_request', `trusted host ${JSON.stringify(raw)} must be a host name (mcp.example.com) or a pattern *.example.com`);
  return value;
}

/** `*.example.com` matches any host below example.com (a.example.com, a.b.example.com), not example.com itself. */
export function hostMatches(pattern: string, host: string): boolean {
  const h = host.toLowerCase();
  return pattern.startsWith('*.') ? h.endsWith(pattern.slice(1)) && h.length > pattern.length - 1 : h === pattern;
}

const isTrustedHost = (policy: TrustPolicy, host: string | null): boolean => host !== null && policy.trustedHosts.some((p) => hostMatches(p, host));

/**
 * Whether the organisation vouches for the client: an administrator approved it, or it proved
 * control of a trusted host (and was neither restricted nor blocked).
 */
export function isVetted(policy: TrustPolicy, reg: SelfRegistration): boolean {
  if (reg.trust === 'approved') return true;
  return reg.trust === 'unreviewed' && isTrustedHost(policy, reg.host);
}

/** Every scope below high sensitivity: what an unvetted client may receive by default. */
function defaultUnvettedScopes(scopes: ReadonlyMap<string, ScopeDef>): Set<string> {
  return new Set([...scopes.values()].filter((s) => s.sensitivity !== 'high').map((s) => s.name));
}

/**
 * The ceilings a self-registered client is held to (null: none beyond its own registration):
 * vetted → none; restricted → its own (or the policy's where it sets none); unreviewed → the
 * trust policy's. A blocked client gets nothing (it is disabled as well).
 */
export function selfRegisteredCeilings(
  policy: TrustPolicy,
  reg: SelfRegistration,
  scopes: ReadonlyMap<string, ScopeDef>,
): { scopes: ReadonlySet<string> | null; resources: ReadonlySet<string> | null } {
  if (reg.trust === 'blocked') return { scopes: new Set(), resources: new Set() };
  if (isVetted(policy, reg)) return { scopes: null, resources: null };
  const policyScopes = policy.scopeCeiling ?? defaultUnvettedScopes(scopes);
  if (reg.trust === 'restricted') return { scopes: reg.scopeCeiling ?? policyScopes, resources: reg.resourceCeiling ?? policy.resourceCeiling };
  return { scopes: policyScopes, resources: policy.resourceCeiling };
}

/** Both limits hold: null is no limit. */
export function intersectCeilings(a: ReadonlySet<string> | null, b: ReadonlySet<string> | null): ReadonlySet<string> | null {
  if (a === null) return b;
  if (b === null) return a;
  return new Set([...a].filter((x) => b.has(x)));
}

/**
 * Whether a metadata document client from `host` may be used at all: refused when blocked, or
 * when its host is not trusted and the policy admits no unknown hosts (unless an administrator
 * approved or restricted this very client).
 */
export function metadataDocumentRefusal(policy: TrustPolicy, host: string, reg: SelfRegistration | undefined): string | undefined {
  if (reg?.trust === 'blocked') return 'this client is blocked by the organisation';
  if (reg && reg.trust !== 'unreviewed') return undefined;
  if (!policy.allowUnknownHosts && !isTrustedHost(policy, host)) return `client_id metadata documents from ${host} are not accepted: the host is not trusted`;
  return undefined;
}
