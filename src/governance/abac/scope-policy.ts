// The attribute-based step of the one scope rule (effective-grant.ts evaluateGrant): after the
// roles, every candidate scope must also be permitted by the active Cedar policy set. Callers
// (every issuance path, introspection, consent, explain) only describe the request's context
// (AbacFacts); which scopes survive and why is decided here, once.
import type { ClientDef, ResourceDef, UserDef } from '../policy-model.ts';
import { UNAVAILABLE, type AbacFacts, type AbacPrincipal, type ScopeVerdict } from './abac-decision.ts';
import type { ActivePolicy } from './abac-store.ts';

/** What a grant request carries for the policy step: the active set and the request's context. */
export interface PolicyRequest {
  readonly active: ActivePolicy;
  readonly facts: AbacFacts;
}

interface RemovedScope {
  readonly scope: string;
  readonly verdict: ScopeVerdict;
}

/** What the policy step found for one evaluation. */
export interface PolicyOutcome {
  readonly version: number;
  /** The active set could not be loaded: nothing may be issued (temporarily_unavailable). */
  readonly unavailable: boolean;
  /** Scopes the roles grant that the policy refused, with why. */
  readonly removed: readonly RemovedScope[];
  /** The policies that permitted the scopes that remain (the audit record's determining ids). */
  readonly permittedBy: readonly string[];
}

/** The request as a Cedar principal: a client alone, a person through a client, or a client acting for a person. */
export function abacPrincipal(kind: 'client' | 'user' | 'anyone', client: ClientDef | undefined, user: UserDef | undefined, facts: AbacFacts): AbacPrincipal | undefined {
  if (!client) return undefined;
  if (kind === 'client') return { kind: 'client', client };
  if (kind === 'user' && user) return { kind: facts.delegationDepth > 0 ? 'agent' : 'person', user, client };
  return undefined;
}

/**
 * Judges `candidates` (scopes the roles grant); undefined when no set is active or there is no
 * principal to judge (the authorization endpoint's ceiling: the person is judged at consent and
 * at the token endpoint).
 */
export function judgeScopes(req: PolicyRequest | undefined, principal: AbacPrincipal | undefined, resource: ResourceDef | undefined, candidates: readonly string[]): PolicyOutcome | undefined {
  if (!req || req.active.state === 'none' || !principal || !resource) return undefined;
  const { active } = req;
  if (active.state === 'unavailable') return { version: active.version, unavailable: true, removed: candidates.map((scope) => ({ scope, verdict: UNAVAILABLE })), permittedBy: [] };
  const removed: RemovedScope[] = [];
  const permittedBy = new Set<string>();
  for (const scope of candidates) {
    const verdict = active.judge.judge(principal, resource, scope, req.facts);
    if (verdict.permitted) for (const id of verdict.policies) permittedBy.add(id);
    else removed.push({ scope, verdict });
  }
  return { version: active.version, unavailable: false, removed, permittedBy: [...permittedBy].sort() };
}

/** What the consent page says about scopes the policy set left out: one sentence each, naming the policy. */
export function consentPolicyNotices(outcome: PolicyOutcome): string[] {
  if (outcome.unavailable) return ['Some permissions cannot be granted right now because the access policy cannot be evaluated. Try again later.'];
  return outcome.removed.map((r) => `Not included because of the access policy: ${r.scope} (${r.verdict.message}).`);
}
