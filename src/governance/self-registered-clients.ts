// Folds each self-registered client's standing into the ClientDef the hot path reads (the
// snapshot loader's part of self-registration.ts): an RFC 7591 client is a catalogue client
// whose ceilings shrink and which a block disables; a metadata document client is not in the
// catalogue (oidc-provider resolves it from its URL) and gets a ClientDef of its own here, so
// consent, issuance, refresh and introspection judge it like any other client.
import type { SelfRegisteredRow, TrustPolicyRow } from '../db/self-registration-repository.ts';
import { parseStringArray } from './policy-loader.ts';
import type { ClientDef, ScopeDef } from './policy-model.ts';
import {
  DEFAULT_TRUST_POLICY,
  intersectCeilings,
  isVetted,
  selfRegisteredCeilings,
  TRUST_DECISIONS,
  type SelfRegistration,
  type SelfRegistrationKind,
  type TrustDecision,
  type TrustPolicy,
} from './self-registration.ts';

const optionalSet = (json: string | null, column: string): ReadonlySet<string> | null => (json === null ? null : new Set(parseStringArray(json, column)));

export function toTrustPolicy(row: TrustPolicyRow | null): TrustPolicy {
  if (!row) return DEFAULT_TRUST_POLICY;
  return {
    trustedHosts: parseStringArray(row.trustedHosts, 'SelfRegistrationPolicy.trustedHosts'),
    allowUnknownHosts: row.allowUnknownHosts,
    scopeCeiling: optionalSet(row.scopeCeiling, 'SelfRegistrationPolicy.scopeCeiling'),
    resourceCeiling: optionalSet(row.resourceCeiling, 'SelfRegistrationPolicy.resourceCeiling'),
  };
}

export function toSelfRegistration(row: SelfRegisteredRow): SelfRegistration {
  if (!TRUST_DECISIONS.includes(row.trust as TrustDecision)) throw new TypeError(`SelfRegisteredClient.trust must be one of ${TRUST_DECISIONS.join(', ')}`);
  return {
    kind: row.kind as SelfRegistrationKind,
    host: row.host,
    trust: row.trust as TrustDecision,
    scopeCeiling: optionalSet(row.scopeCeiling, 'SelfRegisteredClient.scopeCeiling'),
    resourceCeiling: optionalSet(row.resourceCeiling, 'SelfRegisteredClient.resourceCeiling'),
  };
}

/** The client as a metadata document describes it: public, code flow with refresh (RFC 9700 §2.1.1, §4.14). */
function metadataDocumentClient(row: SelfRegisteredRow): ClientDef {
  return {
    id: row.clientId,
    name: row.name,
    secretHash: null,
    secretExpiresAt: null,
    previousSecretHash: null,
    previousSecretValidUntil: null,
    grantTypes: ['authorization_code', 'refresh_token'],
    redirectUris: parseStringArray(row.redirectUris, 'SelfRegisteredClient.redirectUris'),
    postLogoutRedirectUris: [],
    scopeCeiling: null,
    introspectAudience: null,
    adminAccess: false,
    disabled: false,
    roles: [],
  };
}

/** The catalogue's clients with every self-registered one's standing applied, plus the metadata document clients. */
export function selfRegisteredClientDefs(
  catalogue: ReadonlyMap<string, ClientDef>,
  rows: readonly SelfRegisteredRow[],
  policy: TrustPolicy,
  scopes: ReadonlyMap<string, ScopeDef>,
): Map<string, ClientDef> {
  const clients = new Map(catalogue);
  for (const row of rows) {
    const base = row.kind === 'metadata_document' ? metadataDocumentClient(row) : catalogue.get(row.clientId);
    if (!base) continue; // an RFC 7591 client deleted since
    const reg = toSelfRegistration(row);
    const ceilings = selfRegisteredCeilings(policy, reg, scopes);
    clients.set(row.clientId, {
      ...base,
      // Never admin access, whatever the row says: only an administrator's client may reach the admin API.
      adminAccess: false,
      scopeCeiling: intersectCeilings(base.scopeCeiling, ceilings.scopes),
      resourceCeiling: ceilings.resources,
      disabled: base.disabled || reg.trust === 'blocked',
      selfRegistered: { ...reg, vetted: isVetted(policy, reg) },
    });
  }
  return clients;
}
