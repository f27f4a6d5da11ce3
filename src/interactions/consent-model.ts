// What the consent page shows and what a consent grants, computed from current policy for the
// signed-in person: requested ∩ app ceiling ∩ their role scopes ∩ resource scopes, and
// high-sensitivity scopes only with a recent second factor.
import { amrSatisfies, provesSecondFactor } from '../governance/factors.ts';
import { decideConsent, type ClientDef, type WithheldReason } from '../governance/policy-model.ts';
import { withheldNotices } from '../pages/withheld-notices.ts';
import type { InteractionDetails as Details } from '../oidc/interaction-host.ts';
import type { InteractionDeps } from './interaction-routes.ts';
import { consentPolicyNotices, judgeScopes } from '../governance/abac/scope-policy.ts';
import { policyRequestFor } from '../oidc/policy-facts.ts';

/** OpenID Connect scopes govauth supports, and how the consent page describes them. */
const OIDC_SCOPES: Record<string, string> = {
  openid: 'Your account identifier',
  email: 'Your email address',
  offline_access: 'Access while you are away (a refresh token), until you sign out or it expires',
};

export interface ConsentModel {
  readonly requested: string[];
  readonly oidcScopes: string[];
  readonly grantable: Map<string, string[]>;
  readonly withheld: Map<string, string[]>;
  readonly view: Record<string, unknown>;
}

function resourcesOf(details: Details): string[] {
  const fromParams = details.params.resource;
  const listed = Array.isArray(fromParams) ? fromParams : typeof fromParams === 'string' ? [fromParams] : [];
  const missing = (details.prompt.details as { missingResourceScopes?: Record<string, string[]> }).missingResourceScopes ?? {};
  return [...new Set([...listed.map(String), ...Object.keys(missing)])];
}

/**
 * What the page says about a client that identified or registered itself: its name is its own
 * claim, so the page names what was verified (the metadata document's host) and whether the
 * organisation vouches for it (self-registration.ts isVetted).
 */
function selfRegisteredNotice(reg: ClientDef['selfRegistered']): { domain: string | null; reviewed: boolean; trustedHost: boolean } | undefined {
  if (!reg) return undefined;
  return { domain: reg.host, reviewed: reg.trust === 'approved' || reg.trust === 'restricted', trustedHost: reg.vetted && reg.trust !== 'approved' };
}

export async function mfaFreshForInteraction(deps: Pick<InteractionDeps, 'interactions' | 'config' | 'now'>, details: Details): Promise<boolean> {
  const amr = details.session?.amr;
  if (!provesSecondFactor(amr) || !details.session?.uid) return false;
  const loginTs = await deps.interactions.sessionLoginTime(details.session.uid);
  return typeof loginTs === 'number' && deps.now() / 1000 - loginTs <= deps.config.signIn.mfaMaxAge;
}

export function buildConsent(
  deps: Pick<InteractionDeps, 'policy' | 'now'>,
  details: Details,
  client: { clientId: string; clientName?: string | undefined },
  mfaFresh: boolean,
  /** The browser's address (ctx.ip): the Cedar policy step's source (governance/abac). */
  sourceIp?: string,
): ConsentModel {
  const snapshot = deps.policy.snapshot();
  const accountId = details.session?.accountId ?? '';
  const user = deps.policy.user(accountId);
  const clientDef = snapshot.clients.get(client.clientId);
  const scopeParam = details.params.scope;
  const requested = typeof scopeParam === 'string' ? scopeParam.split(' ').filter(Boolean) : [];
  const oidcScopes = requested.filter((s) => s in OIDC_SCOPES);
  const apiRequested = requested.filter((s) => !(s in OIDC_SCOPES));

  const grantable = new Map<string, string[]>();
  const withheld = new Map<string, string[]>();
  const allWithheld: { scope: string; reason: WithheldReason }[] = [];
  const scopes: { name: string; description: string; sensitivity: string }[] = [];
  let resourceName: string | undefined;
  let audience: string | undefined;
  const policyNotices: string[] = [];
  // The token endpoint judges again with the code's own amr and auth_time; here a fresh second
  // factor counts as just used (the page is a preview of what the token endpoint will do).
  const policy = policyRequestFor(deps.policy, {
    at: deps.now(),
    sourceIp,
    binding: 'bearer',
    grantType: 'authorization_code',
    amr: details.session?.amr ?? ['pwd'],
    authTime: mfaFresh ? Math.floor(deps.now() / 1000) : undefined,
  });

  for (const resource of resourcesOf(details)) {
    if (!user || !clientDef) break;
    const decision = decideConsent(snapshot, user, clientDef, resource, apiRequested, mfaFresh, deps.now(), amrSatisfies(details.session?.amr, 'passkey'));
    // Roles AND policy: a scope the Cedar policy set refuses is left out, and the page says why.
    const judged = judgeScopes(policy, { kind: 'person', user, client: clientDef }, snapshot.resources.get(resource), decision.grantable);
    const refused = new Set(judged?.removed.map((r) => r.scope));
    if (judged) policyNotices.push(...consentPolicyNotices(judged));
    grantable.set(resource, decision.grantable.filter((s) => !refused.has(s)));
    withheld.set(resource, [...decision.withheld.map((w) => w.scope), ...refused]);
    allWithheld.push(...decision.withheld);
    for (const name of decision.grantable.filter((s) => !refused.has(s))) {
      const def = snapshot.scopes.get(name);
      if (def) scopes.push({ name, description: def.description, sensitivity: def.sensitivity });
    }
    resourceName ??= snapshot.resources.get(resource)?.name;
    audience ??= resource;
  }
  for (const [resource, list] of grantable) if (!list.length) grantable.delete(resource);

  // Sign-in-only apps (no API scope asked for) can be allowed with their OpenID scopes alone.
  if (!apiRequested.length && oidcScopes.includes('openid')) grantable.set('', []);

  return {
    requested,
    oidcScopes,
    grantable: new Map([...grantable].filter(([r]) => r !== '')),
    withheld,
    view: {
      appName: client.clientName ?? client.clientId,
      selfRegistered: selfRegisteredNotice(clientDef?.selfRegistered),
      email: user?.email ?? '',
      resourceName,
      audience,
      scopes,
      identity: oidcScopes.map((s) => OIDC_SCOPES[s]).filter(Boolean),
      notices: [...withheldNotices(allWithheld, 'app'), ...policyNotices],
      canAllow: grantable.size > 0,
    },
  };
}
