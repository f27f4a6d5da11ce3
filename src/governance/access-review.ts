// The access review: for every person and client, what they hold, when each scope was last
// used in an issued token, grants about to expire, and least-privilege findings: scopes held
// but unused for N days (or never used), and high-sensitivity scopes held by people without
// two-step verification; for clients, secrets expired or about to, and high-sensitivity scopes
// held with a shared secret and bearer tokens.
import { factorView, type FactorView } from './factor-status.ts';
import { unusedRecoveryCodesByUser } from '../db/factor-repository.ts';
import { isConsoleClient } from './console-client.ts';
import { loadScopeUsage } from '../db/access-review-repository.ts';
import type { Database } from '../db/database.ts';
import type { HolderGrants } from '../db/role-hierarchy-repository.ts';
import { loadPolicySnapshot, loadUsers } from './policy-loader.ts';
import type { PolicyStore } from './policy-store.ts';
import { mayHoldRoles } from './client-grants.ts';
import { heldScopes, type ClientDef, type PolicySnapshot, type RoleGrant, type UserDef } from './policy-model.ts';
import { clientAuthMethod, requiresProofOfPossession, usesSharedSecret, type ClientAuthMethod } from './client-auth-method.ts';
import type { ScopeGrant } from './scope-grants-model.ts';
import { SECRET_EXPIRY_WARNING_MS } from './secret-lifetimes.ts';
import { sodViolationsAmong } from './exclusive-roles.ts';
import { describeFactor, requiredFactorsOf, type FactorStatus } from './factors.ts';

const EXPIRING_SOON_MS = 7 * 86_400_000;

type FindingKind =
  | 'unused_scope'
  | 'never_used_scope'
  | 'high_sensitivity_without_mfa'
  | 'missing_required_factor'
  | 'grant_expiring_soon'
  | 'secret_expiring_soon'
  | 'secret_expired'
  | 'high_sensitivity_with_shared_secret_bearer'
  | 'exclusive_roles_held';

export interface ReviewEntry {
  type: 'user' | 'client';
  id: string;
  name: string;
  disabled: boolean;
  mfa_enrolled: boolean | null;
  /** People: their second factors (factor-status.ts); null for clients. */
  factors: FactorView | null;
  /** Clients: may obtain tokens for the admin API (null for people). */
  admin_access: boolean | null;
  /** Clients: how it authenticates (client-auth-method.ts); null for people. */
  auth_method: ClientAuthMethod | null;
  /** Clients: every access token bound to a key it holds (certificate-bound or --require-pop; client-auth-method.ts); null for people. */
  requires_pop: boolean | null;
  /** Clients with a secret that expires: when (null otherwise). */
  secret_expires_at: string | null;
  /** Clients whose keys the server fetches (private_key_jwt with jwks_uri): from where; null otherwise. */
  jwks_uri: string | null;
  roles: { role: string; expires_at: string | null }[];
  scopes: { scope: string; sensitivity: string; via_roles: string[]; last_used_at: string | null }[];
  expiring_soon: { role: string; expires_at: string }[];
  /** Time-boxed grants of one scope on one resource in force (made by approved access requests). */
  scope_grants: { resource: string; scope: string; expires_at: string }[];
  findings: { kind: FindingKind; scope?: string; role?: string; set?: string; roles?: string[]; message: string }[];
}

/** A client that identified or registered itself: its standing, and what reached people through it. */
export interface SelfRegisteredReviewEntry {
  client_id: string;
  name: string;
  kind: 'metadata_document' | 'dynamic';
  host: string | null;
  trust: string;
  vetted: boolean;
  disabled: boolean;
  /** The last token issued through it (null: never used). */
  last_used_at: string | null;
  scopes: { scope: string; sensitivity: string; last_used_at: string }[];
}

export interface AccessReview {
  generated_at: string;
  unused_days: number;
  principals: ReviewEntry[];
  self_registered: SelfRegisteredReviewEntry[];
  summary: { principals: number; findings: number; by_kind: Record<string, number> };
}

function entryFor(
  snapshot: PolicySnapshot,
  base: {
    type: 'user' | 'client'; id: string; name: string; disabled: boolean; mfaEnrolled: boolean | null; factors?: FactorStatus; adminAccess: boolean | null; roles: readonly RoleGrant[]; scopeGrants?: readonly ScopeGrant[] | undefined; ceiling: ReadonlySet<string> | null; since: number;
    /** Clients: their secrets and binding (secretFindings); undefined for people. */
    client?: ClientDef;
    /** false: the roles give no scopes of its own (an agent without client_credentials, matched by its roles against delegation policies only). */
    ownScopes: boolean;
  },
  usage: ReadonlyMap<string, Date>,
  unusedMs: number,
  now: number,
): ReviewEntry {
  const held = heldScopes(snapshot, base.ownScopes ? base.roles : [], now);
  const scopes = [...held.entries()]
    .filter(([scope]) => base.ceiling === null || base.ceiling.has(scope))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([scope, h]) => ({
      scope,
      sensitivity: snapshot.scopes.get(scope)?.sensitivity ?? 'low',
      via_roles: [...h.roles].sort(),
      last_used_at: usage.get(scope)?.toISOString() ?? null,
    }));
  const findings: ReviewEntry['findings'] = [];
  for (const s of scopes) {
    if (s.last_used_at === null) {
      // A principal younger than the window has not had the chance to use it yet.
      if (now - base.since >= unusedMs) findings.push({ kind: 'never_used_scope', scope: s.scope, message: `holds ${s.scope} (via ${s.via_roles.join(', ')}) but has never used it` });
    } else if (now - Date.parse(s.last_used_at) >= unusedMs) {
      findings.push({ kind: 'unused_scope', scope: s.scope, message: `has not used ${s.scope} since ${s.last_used_at}` });
    }
    if (base.type === 'user' && s.sensitivity === 'high' && base.mfaEnrolled === false) {
      findings.push({ kind: 'high_sensitivity_without_mfa', scope: s.scope, message: `holds high-sensitivity ${s.scope} without a second factor (it cannot be granted until TOTP or a passkey is set up)` });
    }
  }
  // A role requires a factor the person has not set up (role require-factor, factors.ts).
  const factors = base.factors ? factorView(base.factors, requiredFactorsOf(snapshot.roles, base.roles, now)) : null;
  if (factors) {
    for (const m of factors.missing) {
      for (const role of m.roles) findings.push({ kind: 'missing_required_factor', role, message: `role ${role} requires ${describeFactor(m.factor)}, which is not set up` });
    }
  }
  const active = base.roles.filter((g) => g.expiresAt === null || g.expiresAt > now);
  const expiring = active
    .filter((g): g is RoleGrant & { expiresAt: number } => g.expiresAt !== null && g.expiresAt - now <= EXPIRING_SOON_MS)
    .map((g) => ({ role: g.role, expires_at: new Date(g.expiresAt).toISOString() }));
  for (const e of expiring) findings.push({ kind: 'grant_expiring_soon', role: e.role, message: `role ${e.role} expires at ${e.expires_at}` });
  if (base.client) findings.push(...secretFindings(base.client, scopes, now));
  return {
    type: base.type,
    id: base.id,
    name: base.name,
    disabled: base.disabled,
    mfa_enrolled: base.mfaEnrolled,
    factors,
    admin_access: base.adminAccess,
    auth_method: base.client ? clientAuthMethod(base.client) : null,
    requires_pop: base.client ? requiresProofOfPossession(base.client) : null,
    secret_expires_at: base.client?.secretExpiresAt == null ? null : new Date(base.client.secretExpiresAt).toISOString(),
    jwks_uri: base.client?.jwksUri ?? null,
    roles: active.map((g) => ({ role: g.role, expires_at: g.expiresAt === null ? null : new Date(g.expiresAt).toISOString() })),
    scopes,
    expiring_soon: expiring,
    scope_grants: (base.scopeGrants ?? []).filter((g) => g.expiresAt > now).map((g) => ({ resource: g.audience, scope: g.scope, expires_at: new Date(g.expiresAt).toISOString() })),
    findings,
  };
}

/**
 * A client's shared secret: expired (it authenticates no more), or expiring within
 * SECRET_EXPIRY_WARNING_MS (rotate it before the outage); and high-sensitivity scopes reachable
 * with a copyable secret and a bearer token, which whoever copies the secret can use from
 * anywhere (RFC 9700 §2.2.1 recommends sender-constrained tokens).
 */
function secretFindings(client: ClientDef, scopes: readonly { scope: string; sensitivity: string }[], now: number): ReviewEntry['findings'] {
  const findings: ReviewEntry['findings'] = [];
  if (!usesSharedSecret(client)) return findings;
  const expiresAt = client.secretExpiresAt;
  if (expiresAt !== null && expiresAt <= now) {
    findings.push({ kind: 'secret_expired', message: `its secret expired at ${new Date(expiresAt).toISOString()}: it cannot authenticate until rotated (govauth client rotate-secret ${client.id})` });
  } else if (expiresAt !== null && expiresAt - now <= SECRET_EXPIRY_WARNING_MS) {
    findings.push({ kind: 'secret_expiring_soon', message: `its secret expires at ${new Date(expiresAt).toISOString()}: rotate it with a grace (govauth client rotate-secret ${client.id} --grace 24h)` });
  }
  if (!requiresProofOfPossession(client)) {
    for (const s of scopes.filter((x) => x.sensitivity === 'high')) {
      findings.push({ kind: 'high_sensitivity_with_shared_secret_bearer', scope: s.scope, message: `holds high-sensitivity ${s.scope} with a shared secret and bearer tokens: a copied secret or token works from anywhere` });
    }
  }
  return findings;
}

/** Clients the review lists although they hold no roles: a resource server whose secret expires. */
const hasExpiringSecret = (c: ClientDef): boolean => usesSharedSecret(c) && c.secretExpiresAt !== null;

/**
 * The policy the review reads: a server passes the snapshot and people it keeps in memory
 * (policy-store.ts `snapshot()` and `users()`), current to the change feed; without one (the
 * CLI) they are loaded from the database. Loading them costs far more than the review itself
 * (the catalogue with every client and its grants; bench/review-profile.ts).
 */
export interface ReviewPolicy {
  readonly snapshot: PolicySnapshot;
  readonly users: ReadonlyMap<string, UserDef>;
}

async function loadReviewPolicy(db: Database): Promise<ReviewPolicy> {
  const [snapshot, users] = await Promise.all([loadPolicySnapshot(db), loadUsers(db)]);
  return { snapshot, users };
}

/** People and clients with their role grants, as the separation-of-duties check takes them. */
const holdersIn = ({ snapshot, users }: ReviewPolicy): HolderGrants[] => {
  const grants = (roles: readonly RoleGrant[]) => roles.map((g) => ({ roleName: g.role, expiresAt: g.expiresAt === null ? null : new Date(g.expiresAt) }));
  return [
    ...[...users.values()].filter((u) => u.roles.length).map((u): HolderGrants => ({ holder: 'user', id: u.id, label: u.email, grants: grants(u.roles) })),
    ...[...snapshot.clients.values()].filter((c) => c.roles.length).map((c): HolderGrants => ({ holder: 'client', id: c.id, label: c.id, grants: grants(c.roles) })),
  ];
};

/**
 * The review on a running server: its policy in memory, caught up with the change feed first
 * (one read when nothing changed), so it shows every change committed before the call, on any
 * instance, even one whose wake-up has not arrived yet. The CLI, without a server, loads it.
 */
export async function reviewLive(db: Database, store: Pick<PolicyStore, 'sync' | 'snapshot' | 'users'>, options: { unusedDays: number; now: number }): Promise<AccessReview> {
  await store.sync();
  return reviewAccess(db, { ...options, policy: { snapshot: store.snapshot(), users: store.users() } });
}

export async function reviewAccess(db: Database, options: { unusedDays: number; now: number; policy?: ReviewPolicy }): Promise<AccessReview> {
  const now = options.now;
  const unusedMs = options.unusedDays * 86_400_000;
  const [policy, usageRows, recoveryCodes] = await Promise.all([options.policy ?? loadReviewPolicy(db), loadScopeUsage(db), unusedRecoveryCodesByUser(db)]);
  const { snapshot, users } = policy;
  const usage = new Map<string, Map<string, Date>>();
  for (const u of usageRows) {
    const key = `${u.principalType}\0${u.principalId}`;
    if (!usage.has(key)) usage.set(key, new Map());
    usage.get(key)?.set(u.scope, u.lastUsedAt);
  }
  const entries: ReviewEntry[] = [];
  for (const u of [...users.values()].sort((a, b) => (a.email < b.email ? -1 : 1))) {
    entries.push(
      entryFor(
        snapshot,
        {
          type: 'user', id: u.id, name: u.email, disabled: u.disabled, mfaEnrolled: u.mfaEnrolled,
          factors: { totp: u.totpEnrolled ?? u.mfaEnrolled, passkeys: u.passkeys ?? 0, recoveryCodesLeft: recoveryCodes.get(u.id) ?? 0 },
          adminAccess: null, roles: u.roles, scopeGrants: u.scopeGrants, ceiling: null, since: u.createdAt ?? now, ownScopes: true,
        },
        usage.get(`user\0${u.id}`) ?? new Map(),
        unusedMs,
        now,
      ),
    );
  }
  // Bots, agents (their roles decide whom they may act for), and every app allowed the admin
  // API: who can reach it is part of the review.
  // Any other client whose secret expires is listed for that finding alone.
  // The console's built-in client holds nothing of its own: its people are reviewed instead.
  for (const c of [...snapshot.clients.values()].filter((c) => !isConsoleClient(c.id) && (mayHoldRoles(c.grantTypes) || c.adminAccess || hasExpiringSecret(c)))) {
    const base = { type: 'client' as const, id: c.id, name: c.name, disabled: c.disabled, mfaEnrolled: null, adminAccess: c.adminAccess, roles: c.roles, scopeGrants: c.scopeGrants, ceiling: c.scopeCeiling, since: c.createdAt ?? now, client: c };
    entries.push(
      entryFor(snapshot, { ...base, ownScopes: c.grantTypes.includes('client_credentials') || c.adminAccess }, usage.get(`client\0${c.id}`) ?? new Map(), unusedMs, now),
    );
  }
  const selfRegistered = [...snapshot.clients.values()].flatMap((c): SelfRegisteredReviewEntry[] => {
    const reg = c.selfRegistered;
    if (!reg) return [];
    const used = [...(usage.get(`app\0${c.id}`) ?? new Map<string, Date>()).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    const last = used.reduce<Date | null>((m, [, at]) => (m === null || at > m ? at : m), null);
    return [{
      client_id: c.id, name: c.name, kind: reg.kind, host: reg.host, trust: reg.trust, vetted: reg.vetted, disabled: c.disabled,
      last_used_at: last?.toISOString() ?? null,
      scopes: used.map(([scope, at]) => ({ scope, sensitivity: snapshot.scopes.get(scope)?.sensitivity ?? 'low', last_used_at: at.toISOString() })),
    }];
  });
  // Separation of duties: every principal holding two roles of one set (e.g. a set declared
  // over existing holders), directly, time-boxed or through the hierarchy (exclusive-roles.ts).
  for (const v of await sodViolationsAmong(db, holdersIn(policy), now)) {
    // A violation names a person by email (the entry's name) and a client by id.
    const entry = entries.find((e) => e.type === v.principal_type && (v.principal_type === 'user' ? e.name : e.id) === v.principal);
    entry?.findings.push({ kind: 'exclusive_roles_held', set: v.set, roles: v.roles, message: v.message });
  }
  const byKind: Record<string, number> = {};
  for (const f of entries.flatMap((e) => e.findings)) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  return {
    generated_at: new Date(now).toISOString(),
    unused_days: options.unusedDays,
    principals: entries,
    self_registered: selfRegistered,
    summary: { principals: entries.length, findings: Object.values(byKind).reduce((a, b) => a + b, 0), by_kind: byKind },
  };
}
