// THE attribute-based decision for one scope: is this principal, through this client, permitted
// this scope of this resource in this context, under the active Cedar policy set? Cedar's rules
// (https://docs.cedarpolicy.com/auth/authorization.html): a forbid that applies wins, else a
// permit that applies allows, else deny. govauth adds one: an evaluation error in any policy is a
// deny (Cedar would skip the erroring policy, which for a forbid means allowing: fail closed).
// Pure given the compiled set; decisions are cached per judge (one judge per policy version,
// catalogue snapshot and attribute generation), keyed by everything the request carries.
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { ClientDef, ResourceDef, UserDef } from '../policy-model.ts';
import type { TokenBinding } from '../proof-of-possession.ts';
import { attributesOf, zoneMatcher, type AbacData } from './abac-model.ts';
import type { CompiledPolicySet } from './cedar-policy-set.ts';

/** Who would hold the token, as Cedar sees them (cedar-schema.ts principal types). */
export type AbacPrincipal =
  | { readonly kind: 'client'; readonly client: ClientDef }
  | { readonly kind: 'person'; readonly user: UserDef; readonly client: ClientDef }
  | { readonly kind: 'agent'; readonly user: UserDef; readonly client: ClientDef };

/** The request's context facts (cedar-schema.ts CONTEXT). */
export interface AbacFacts {
  /** Epoch ms of the decision. */
  readonly at: number;
  /** The source address; undefined when unknown. */
  readonly sourceIp: string | undefined;
  readonly amr: readonly string[];
  /** Epoch seconds of the authentication amr describes. */
  readonly authTime: number | undefined;
  readonly binding: TokenBinding;
  readonly delegationDepth: number;
  readonly grantType: string;
}

type VerdictReason = 'permit' | 'forbid' | 'no_permit' | 'evaluation_error' | 'unavailable';

export interface ScopeVerdict {
  readonly permitted: boolean;
  readonly reason: VerdictReason;
  /** The policies that decided: the permits that allowed, the forbids that denied, the ones that failed. */
  readonly policies: readonly string[];
  /** One sentence for people (consent page, explain, error logs). */
  readonly message: string;
}

/** amr values (RFC 8176 §2) that are a second factor. */
const SECOND_FACTORS = new Set(['otp', 'hwk', 'swk', 'mfa', 'sms', 'fpt', 'face', 'iris']);

const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

const uid = (type: string, id: string) => ({ type, id });
const ref = (type: string, id: string) => ({ __entity: { type, id } });

function activeRoles(grants: readonly { role: string; expiresAt: number | null }[], at: number): string[] {
  return grants.filter((g) => g.expiresAt === null || g.expiresAt > at).map((g) => g.role).sort();
}

export interface ScopeJudge {
  readonly version: number;
  judge(principal: AbacPrincipal, resource: ResourceDef, scope: string, facts: AbacFacts): ScopeVerdict;
}

const CACHE_LIMIT = 10_000;

/** A judge for one compiled set over one catalogue snapshot and one attribute generation. */
export function createScopeJudge(set: CompiledPolicySet, snapshotScopes: ReadonlyMap<string, { sensitivity: string }>, data: AbacData): ScopeJudge {
  const zonesOf = zoneMatcher(data.zones);
  const cache = new Map<string, ScopeVerdict>();
  // Users are replaced, not mutated, when they change (policy-loader.ts): identity is a version.
  const userIds = new WeakMap<UserDef, number>();
  let nextUser = 0;
  const userVersion = (u: UserDef): number => {
    let n = userIds.get(u);
    if (n === undefined) userIds.set(u, (n = ++nextUser));
    return n;
  };

  const clientEntity = (c: ClientDef, at: number) => ({ uid: uid('Client', c.id), attrs: { name: c.name, roles: activeRoles(c.roles, at) }, parents: [], tags: { ...attributesOf(data, 'client', c.id) } });
  const personEntity = (u: UserDef, at: number) => ({ uid: uid('Person', u.id), attrs: { email: u.email, roles: activeRoles(u.roles, at), mfaEnrolled: u.mfaEnrolled }, parents: [], tags: { ...attributesOf(data, 'person', u.id) } });

  function evaluate(principal: AbacPrincipal, resource: ResourceDef, scope: string, facts: AbacFacts, ip: string | undefined, zones: string[]): ScopeVerdict {
    const at = new Date(facts.at);
    const mfa = facts.amr.some((a) => SECOND_FACTORS.has(a));
    const context: Record<string, unknown> = {
      hour: at.getUTCHours(),
      minute: at.getUTCMinutes(),
      weekday: at.getUTCDay() || 7,
      zones,
      amr: [...facts.amr],
      mfa,
      binding: facts.binding === 'bearer' ? 'none' : facts.binding,
      delegationDepth: facts.delegationDepth,
      grantType: facts.grantType,
      client: ref('Client', principal.client.id),
      scope: ref('Scope', scope),
    };
    if (ip !== undefined) context.sourceIp = { __extn: { fn: 'ip', arg: ip } };
    if (mfa && facts.authTime !== undefined) context.mfaAgeSeconds = Math.max(0, Math.floor(facts.at / 1000 - facts.authTime));
    const entities: cedar.EntityJson[] = [
      clientEntity(principal.client, facts.at),
      { uid: uid('Resource', resource.audience), attrs: { audience: resource.audience, name: resource.name }, parents: [], tags: { ...attributesOf(data, 'resource', resource.audience) } },
      { uid: uid('Scope', scope), attrs: { name: scope, sensitivity: snapshotScopes.get(scope)?.sensitivity ?? 'low' }, parents: [], tags: { ...attributesOf(data, 'scope', scope) } },
    ];
    let principalUid: { type: string; id: string };
    if (principal.kind === 'client') principalUid = uid('Client', principal.client.id);
    else {
      entities.push(personEntity(principal.user, facts.at));
      if (principal.kind === 'person') principalUid = uid('Person', principal.user.id);
      else {
        principalUid = uid('Agent', `${principal.client.id}/${principal.user.id}`);
        entities.push({ uid: principalUid, attrs: { client: ref('Client', principal.client.id), person: ref('Person', principal.user.id) }, parents: [], tags: {} });
      }
    }
    let answer: cedar.AuthorizationAnswer;
    try {
      answer = cedar.statefulIsAuthorized({
        principal: principalUid,
        action: uid('Action', scope),
        resource: uid('Resource', resource.audience),
        context: context as cedar.Context,
        preparsedPolicySetId: set.handle,
        entities,
      });
    } catch (err) {
      return { permitted: false, reason: 'evaluation_error', policies: [], message: `policy evaluation failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (answer.type === 'failure') return { permitted: false, reason: 'evaluation_error', policies: [], message: `policy evaluation failed: ${answer.errors.map((e) => e.message).join('; ')}` };
    const { decision, diagnostics } = answer.response;
    if (diagnostics.errors.length) {
      const ids = [...new Set(diagnostics.errors.map((e) => e.policyId))].sort();
      return { permitted: false, reason: 'evaluation_error', policies: ids, message: `policy ${ids.join(', ')} could not be evaluated (${diagnostics.errors[0]?.error.message ?? 'error'}), so the scope is refused` };
    }
    const ids = [...diagnostics.reason].sort();
    if (decision === 'allow') return { permitted: true, reason: 'permit', policies: ids, message: `permitted by ${ids.join(', ')}` };
    if (!ids.length) return { permitted: false, reason: 'no_permit', policies: [], message: 'no policy permits it' };
    const why = ids.map((id) => set.policies.get(id)?.reason).filter((r): r is string => Boolean(r));
    return { permitted: false, reason: 'forbid', policies: ids, message: `forbidden by policy ${ids.join(', ')}${why.length ? `: ${why.join('; ')}` : ''}` };
  }

  return {
    version: set.version,
    judge(principal, resource, scope, facts) {
      const mapped = facts.sourceIp === undefined ? undefined : (IPV4_MAPPED.exec(facts.sourceIp)?.[1] ?? facts.sourceIp);
      const zones = zonesOf(mapped);
      const at = new Date(facts.at);
      const who =
        principal.kind === 'client'
          ? `c:${principal.client.id}:${activeRoles(principal.client.roles, facts.at).join(',')}`
          : `${principal.kind}:${principal.client.id}:${userVersion(principal.user)}:${activeRoles(principal.user.roles, facts.at).join(',')}`;
      const key = `${who}|${resource.audience}|${scope}|${at.getUTCDay()}:${at.getUTCHours()}:${at.getUTCMinutes()}|${mapped ?? ''}|${facts.amr.join(',')}|${facts.authTime === undefined ? '' : Math.floor(facts.at / 1000 - facts.authTime)}|${facts.binding}|${facts.delegationDepth}|${facts.grantType}`;
      const hit = cache.get(key);
      if (hit) return hit;
      const verdict = evaluate(principal, resource, scope, facts, mapped, zones);
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(key, verdict);
      return verdict;
    },
  };
}

/** The verdict when the active set cannot be loaded: refuse (fail closed), issuance answers temporarily_unavailable. */
export const UNAVAILABLE: ScopeVerdict = { permitted: false, reason: 'unavailable', policies: [], message: 'the active policy set could not be loaded' };
