// Why a requested permission is left out, in a person's words: one sentence per reason
// (policy-model.ts WithheldReason), for the consent page (src/interactions) and the delegation
// consent page (src/account), which apply the same per-scope rule.
import type { WithheldReason } from '../governance/policy-model.ts';

/** Who asks: an app signing the person in, or an agent they would let act for them. */
type Requester = 'app' | 'agent';

const NOTICE: Record<WithheldReason, (scopes: string, by: Requester) => string> = {
  not_in_roles: (s) => `Not included because your roles do not grant it: ${s}.`,
  not_allowed_for_app: (s, by) => `Not included because this ${by} may not ${by === 'app' ? 'request' : 'hold'} it: ${s}.`,
  not_on_resource: (s) => `Not included because this resource does not offer it: ${s}.`,
  unknown_scope: (s) => `Not included because no such permission exists: ${s}.`,
  mfa_not_enrolled: (s) =>
    `Not included because it needs two-step verification, which is not set up for your account (add a passkey at /account/passkeys, or ask an administrator to enrol you): ${s}.`,
  mfa_required: (s) => `Not included because it needs a recent two-step verification: ${s}. Sign in again to use it.`,
  phr_required: (s) => `Not included because it needs a sign-in with a passkey (phishing-resistant): ${s}. Sign in with your passkey to use it.`,
};

/** One sentence per reason, naming every scope left out for it, in the order the reasons first occur. */
export function withheldNotices(withheld: readonly { scope: string; reason: WithheldReason }[], by: Requester): string[] {
  const byReason = new Map<WithheldReason, Set<string>>();
  for (const w of withheld) {
    if (!byReason.has(w.reason)) byReason.set(w.reason, new Set());
    byReason.get(w.reason)?.add(w.scope);
  }
  return [...byReason].map(([reason, scopes]) => NOTICE[reason]([...scopes].join(', '), by));
}
