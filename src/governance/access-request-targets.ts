// What an access request is for, in one place: a role, or one scope on one resource. How a
// target is read from the request's columns and written to them, which policy governs it
// (access-policies.ts per role, scope-access-policies.ts per resource and scope), whether the
// holder has it already, and the grant an approved request makes (role-grants.ts or
// scope-grants.ts). The lifecycle that uses these is access-requests.ts.
import type { Actor } from '../audit/audit-chain.ts';
import { findAccessPolicy, findScopeAccessPolicy, type AccessRequestRow } from '../db/access-request-repository.ts';
import type { Tx } from '../db/database.ts';
import type { UserRow } from '../db/people-repository.ts';
import { grantRows } from '../db/role-grant-repository.ts';
import { scopeGrantRows } from '../db/scope-grant-repository.ts';
import { AppError } from '../errors/app-error.ts';
import { termsOf } from './access-policies.ts';
import type { AccessPolicyTerms, RequestTarget } from './access-request-rules.ts';
import { grantRoleIn } from './role-grants.ts';
import { scopeTermsOf } from './scope-access-policies.ts';
import { grantScopeIn } from './scope-grants.ts';
import { checkRoleName, checkText } from './validation.ts';

/** What a stored request asks for. */
export const targetOf = (r: Pick<AccessRequestRow, 'roleName' | 'audience' | 'scopeName'>): RequestTarget =>
  r.roleName !== null ? { role: r.roleName } : { scope: r.scopeName ?? '', resource: r.audience ?? '' };

/** The policy that governs a target now (undefined: it cannot be requested). */
export async function policyFor(tx: Tx, target: RequestTarget): Promise<AccessPolicyTerms | undefined> {
  if ('role' in target) {
    const p = await findAccessPolicy(tx, target.role);
    return p ? termsOf(p) : undefined;
  }
  const p = await findScopeAccessPolicy(tx, target.resource, target.scope);
  return p ? scopeTermsOf(p) : undefined;
}

/** The request's columns for a target: a role, or a resource and one of its scopes. */
export const targetColumns = (t: RequestTarget) => ('role' in t ? { roleName: t.role, audience: null, scopeName: null } : { roleName: null, audience: t.resource, scopeName: t.scope });

/** Makes the grant a completed request earns (a role, or one scope on one resource), in the caller's transaction. */
export async function grantFor(tx: Tx, r: AccessRequestRow, by: Actor, now: number) {
  const until = new Date(now + r.duration * 1000);
  const principal = r.holderType === 'user' ? { type: 'user' as const, email: r.holderLabel } : { type: 'client' as const, id: r.holderId };
  const reason = `access request ${r.id}: ${r.justification}`.slice(0, 500);
  const target = targetOf(r);
  if ('role' in target) {
    const granted = await grantRoleIn(tx, { principal, role: target.role, expiresAt: until, reason }, by, now, { access_request: r.id });
    return { expiresAt: until, granted };
  }
  const { expiresAt, ...granted } = await grantScopeIn(tx, { principal, resource: target.resource, scope: target.scope, expiresAt: until, requestId: r.id, reason }, by, now, { access_request: r.id });
  return { expiresAt, granted };
}

/** When the holder's grant of the target ends (null: permanent), if one is in force at `now`. */
export async function heldUntil(tx: Tx, holder: { type: 'user' | 'client'; id: string; roles?: UserRow['roles'] }, target: RequestTarget, now: number): Promise<Date | null | undefined> {
  if ('role' in target) {
    const roles = holder.roles ?? (await grantRows(tx, 'client', holder.id));
    const g = roles.find((x) => x.roleName === target.role && (x.expiresAt === null || x.expiresAt.getTime() > now));
    return g ? g.expiresAt : undefined;
  }
  const g = (await scopeGrantRows(tx, holder.type, holder.id)).find((x) => x.audience === target.resource && x.scopeName === target.scope && x.expiresAt.getTime() > now);
  return g?.expiresAt;
}

/** The one target a request names: a role, or a scope with its resource. */
export function requestTarget(input: { role?: string | undefined; scope?: string | undefined; resource?: string | undefined }): RequestTarget {
  if (input.role !== undefined) {
    if (input.scope !== undefined || input.resource !== undefined) throw new AppError('invalid_request', 'ask for a role, or for one scope on one resource, not both');
    return { role: checkRoleName(input.role) };
  }
  if (input.scope === undefined || input.resource === undefined) throw new AppError('invalid_request', 'name a role, or a scope and the resource it is for');
  return { scope: checkText(input.scope, 'scope', 200), resource: checkText(input.resource, 'resource', 2000) };
}
