// What the delegation pages show, computed from current policy: the consent page's sentence
// ("Allow <agent> to act for you on <resource> with <scopes>, until <end>"), what is left out and
// why (the consent page's words, pages/withheld-notices.ts), and the person's delegations.
import type { PolicySnapshot } from '../governance/policy-model.ts';
import type { StandingDelegationDecision } from '../governance/standing-delegation-rules.ts';
import type { StandingDelegationView } from '../governance/standing-delegations.ts';
import { withheldNotices } from '../pages/withheld-notices.ts';

const UNTIL_WITHDRAWN = 'you withdraw it';
const DATE = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });

/** "5 January 2027 at 10:00 UTC": the same text for everyone, whatever their browser says. */
const formatInstant = (ms: number): string => `${DATE.format(ms)} UTC`;

const until = (expiresAt: number | null): string => (expiresAt === null ? UNTIL_WITHDRAWN : formatInstant(expiresAt));

/** How a scope list reads inside a sentence: "a", "a and b", "a, b and c". */
const separator = (i: number, n: number): string => (i === 0 ? '' : i === n - 1 ? ' and ' : ', ');

function scopeItems(snapshot: PolicySnapshot, names: readonly string[]) {
  return names.map((name, i) => {
    const def = snapshot.scopes.get(name);
    return { name, description: def?.description ?? '', sensitivity: def?.sensitivity ?? 'low', sep: separator(i, names.length) };
  });
}

export interface ConsentPageInput {
  readonly snapshot: PolicySnapshot;
  readonly email: string;
  readonly decision: Extract<StandingDelegationDecision, { ok: true }>;
  readonly expiresAt: number | null;
  /** The delegation to the same agent for the same resource that this one would replace. */
  readonly replaces: StandingDelegationView | undefined;
  /** Where the person confirms a second factor and comes back to this page. */
  readonly stepUpHref: string;
}

export function consentPage(p: ConsentPageInput): Record<string, unknown> {
  const { decision, snapshot } = p;
  return {
    agentName: decision.agent.name,
    clientId: decision.agent.id,
    resourceName: decision.resource.name,
    audience: decision.resource.audience,
    email: p.email,
    scopes: scopeItems(snapshot, decision.grantable),
    until: until(p.expiresAt),
    notices: withheldNotices(decision.withheld, 'agent'),
    canAllow: decision.grantable.length > 0,
    stepUpHref: decision.withheld.some((w) => w.reason === 'mfa_required') ? p.stepUpHref : undefined,
    replaces: p.replaces && {
      grantedAt: formatInstant(Date.parse(p.replaces.granted_at)),
      scopes: p.replaces.scopes.join(', '),
      until: until(p.replaces.expires_at === null ? null : Date.parse(p.replaces.expires_at)),
    },
    // What Allow stores: exactly what the page shows (standing-delegations.ts grant refuses any other).
    form: { client_id: decision.agent.id, resource: decision.resource.audience, scope: decision.grantable.join(' '), expires_at: p.expiresAt === null ? '' : String(p.expiresAt) },
  };
}

/** The banner above the list, after an Allow, a Deny or a Withdraw. */
export type ListBanner = { kind: 'granted'; id: string } | { kind: 'denied' } | { kind: 'withdrawn' } | undefined;

export function listPage(snapshot: PolicySnapshot, email: string, delegations: readonly StandingDelegationView[], banner: ListBanner, now: number): Record<string, unknown> {
  const items = delegations.map((d) => {
    const ends = d.expires_at === null ? null : Date.parse(d.expires_at);
    return {
      id: d.id,
      agentName: d.agent_name,
      clientId: d.client_id,
      resourceName: d.resource_name,
      audience: d.audience,
      scopes: scopeItems(snapshot, d.scopes),
      until: until(ends),
      grantedAt: formatInstant(Date.parse(d.granted_at)),
      ended: ends !== null && ends <= now,
    };
  });
  const granted = banner?.kind === 'granted' ? items.find((d) => d.id === banner.id) : undefined;
  const confirmation = granted
    ? `Saved: ${granted.agentName} may act for you on ${granted.resourceName} until ${granted.until}.`
    : banner?.kind === 'denied'
      ? 'You did not allow it: nothing was changed.'
      : banner?.kind === 'withdrawn'
        ? 'Withdrawn: the agent can no longer act for you there, and the access it was given has ended.'
        : undefined;
  return { email, delegations: items, confirmation };
}
