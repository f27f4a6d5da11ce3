// Whether a person may give an agent a standing delegation (delegation.ts), decided from the
// policy snapshot alone: the same for the consent page that shows it and the write that stores it.
// The scopes follow THE per-scope rule (policy-model.ts withheldReason) with the agent as the
// client: a person delegates only what they hold now, within the agent's ceiling, and a
// high-sensitivity scope only with a recent second factor, exactly as on the consent page.
import { isDelegable, MAX_STANDING_DELEGATION_SECONDS, TOKEN_EXCHANGE_GRANT } from './delegation.ts';
import { decideConsent, mayUseAudience, type ClientDef, type PolicySnapshot, type ResourceDef, type UserDef, type WithheldReason } from './policy-model.ts';

export interface StandingDelegationRequest {
  readonly clientId: string;
  readonly audience: string;
  readonly scopes: readonly string[];
  /** The person proved a second factor recently (policy-model.ts mfaFresh). */
  readonly mfaFresh: boolean;
  readonly now: number;
}

export type StandingDelegationDecision =
  | {
      readonly ok: true;
      readonly agent: ClientDef;
      readonly resource: ResourceDef;
      /** Requested scopes the person may delegate now, sorted. */
      readonly grantable: readonly string[];
      readonly withheld: readonly { scope: string; reason: WithheldReason }[];
    }
  | { readonly ok: false; readonly message: string };

/** Who the agent or resource is to a person: its name, and the id when it has none of its own. */
const named = (name: string, id: string): string => (name && name !== id ? name : JSON.stringify(id));

export function decideStandingDelegation(snapshot: PolicySnapshot, user: UserDef, req: StandingDelegationRequest): StandingDelegationDecision {
  const refuse = (message: string): StandingDelegationDecision => ({ ok: false, message });
  if (user.disabled) return refuse('This account is disabled, so it cannot let anyone act for it.');
  const agent = snapshot.clients.get(req.clientId);
  if (!agent) return refuse(`There is no agent registered as ${JSON.stringify(req.clientId)}.`);
  const agentName = named(agent.name, agent.id);
  if (agent.disabled) return refuse(`${agentName} has been switched off by an administrator, so it cannot act for anyone.`);
  // Only a client registered for token exchange (RFC 8693 §2.1) can ever use a delegation.
  if (!agent.grantTypes.includes(TOKEN_EXCHANGE_GRANT)) return refuse(`${agentName} is not an agent: it is not registered to act for people.`);
  const resource = snapshot.resources.get(req.audience);
  if (!resource) return refuse(`There is no resource ${JSON.stringify(req.audience)}.`);
  if (!isDelegable(resource.audience)) return refuse(`No one can act for you on ${named(resource.name, resource.audience)}: it is where govauth itself is administered.`);
  if (!mayUseAudience(agent, resource.audience)) return refuse(`${agentName} may not use ${named(resource.name, resource.audience)}.`);
  const { grantable, withheld } = decideConsent(snapshot, user, agent, resource.audience, req.scopes, req.mfaFresh, req.now);
  return { ok: true, agent, resource, grantable, withheld };
}

/** Why `expiresAt` (epoch ms; null: until withdrawn) cannot end a delegation given at `now`, or undefined. */
export function expiryRefusal(expiresAt: number | null, now: number): string | undefined {
  if (expiresAt === null) return undefined;
  if (!Number.isFinite(expiresAt) || expiresAt <= now) return 'The end of a delegation must be in the future.';
  if (expiresAt > now + MAX_STANDING_DELEGATION_SECONDS * 1000) return `A delegation can be given for at most ${MAX_STANDING_DELEGATION_SECONDS / 86_400} days at a time.`;
  return undefined;
}
