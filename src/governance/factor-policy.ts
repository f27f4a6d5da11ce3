// Administrators require a factor per role (`govauth role require-factor govauth-admin passkey`,
// PUT /roles/{name}/required-factor): a person holding the role must use it at sign-in and
// step-up (oidc/step-up-prompt.ts asks for it; policy-model.ts personMfaFresh counts nothing
// else as a second factor for them). `user show`, GET /users/{email}/factors and the access
// review report who can and who cannot give it (factor-status.ts); removing the last such factor
// is refused (factor-rules.ts).
import { adminEvent, type Actor } from '../audit/audit-chain.ts';
import { writeWithChanges } from '../db/change-feed.ts';
import type { Database } from '../db/database.ts';
import { findRoleFactor, findScopeAcr, setRoleFactor, setScopeAcr } from '../db/factor-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { mustExist } from './catalog.ts';
import { parseRequiredFactor, REQUIRED_FACTORS, type RequiredFactor } from './factors.ts';
import { ACR_PHR } from './step-up.ts';
import { checkRoleName } from './validation.ts';

/** `passkey`, `totp`, `any`, or `none` (no requirement). */
export function parseFactorArgument(raw: string | undefined): RequiredFactor | null {
  const v = (raw ?? '').trim().toLowerCase();
  if (v === 'none') return null;
  if ((REQUIRED_FACTORS as readonly string[]).includes(v)) return v as RequiredFactor;
  throw new AppError('invalid_request', `the factor must be one of: ${REQUIRED_FACTORS.join(', ')}, none`);
}

export interface RoleFactorView {
  role: string;
  require_factor: RequiredFactor | null;
}

export async function setRoleRequiredFactor(db: Database, name: string, factor: RequiredFactor | null, by: Actor): Promise<RoleFactorView> {
  const role = checkRoleName(name);
  return writeWithChanges(db, async (tx) => {
    const row = await mustExist(findRoleFactor(tx, role), `no role named ${role}`);
    const before: RoleFactorView = { role, require_factor: parseRequiredFactor(row.requireFactor) };
    await setRoleFactor(tx, role, factor);
    const after: RoleFactorView = { role, require_factor: factor };
    return { result: after, changes: [{ kind: 'role', key: role }], audit: [adminEvent(by, 'admin.role.require_factor', role, before, after)] };
  });
}

export interface ScopeAcrView {
  scope: string;
  /** 'phr': only a sign-in with a passkey (acr urn:govauth:acr:phr) may carry the scope. */
  require_acr: 'phr' | null;
}

/** `phr` or `none`. */
export function parseAcrArgument(raw: string | undefined): 'phr' | null {
  const v = (raw ?? '').trim().toLowerCase();
  if (v === 'none') return null;
  if (v === 'phr' || v === ACR_PHR) return 'phr';
  throw new AppError('invalid_request', `the acr must be phr (${ACR_PHR}) or none`);
}

/** Requires (or stops requiring) a phishing-resistant sign-in for tokens carrying a scope. */
export async function setScopeRequiredAcr(db: Database, name: string, acr: 'phr' | null, by: Actor): Promise<ScopeAcrView> {
  return writeWithChanges(db, async (tx) => {
    const row = await mustExist(findScopeAcr(tx, name), `no scope named ${name}`);
    const before: ScopeAcrView = { scope: row.name, require_acr: row.requireAcr === null ? null : 'phr' };
    await setScopeAcr(tx, row.name, acr);
    const after: ScopeAcrView = { scope: row.name, require_acr: acr };
    return { result: after, changes: [{ kind: 'scope', key: row.name }], audit: [adminEvent(by, 'admin.scope.require_acr', row.name, before, after)] };
  });
}
