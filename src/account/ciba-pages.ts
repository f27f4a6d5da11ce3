// The CIBA part of a person's approvals page (/account/approvals): the requests agents made for
// them at /backchannel (OpenID CIBA Core 1.0), each with the agent, its binding message, each
// scope with its description and sensitivity, and the resource; Approve and Deny post to
// /account/agent-requests/:id with the account pages' CSRF token. What approving grants is
// decided again on the server at the post (governance/ciba-requests.ts); a high-sensitivity
// scope needs a recent second factor, which the page offers to prove first (step-up).
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Actor } from '../audit/audit-chain.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { pendingCibaFor } from '../governance/ciba-requests.ts';
import { mfaFresh, type UserDef } from '../governance/policy-model.ts';
import type { PolicyStore } from '../governance/policy-store.ts';
import type { FormTokens } from '../interactions/csrf.ts';
import type { SignedIn } from '../oidc/account-session.ts';
import type { CibaApprovals } from '../oidc/ciba.ts';
import { withheldNotices } from '../pages/withheld-notices.ts';
import type { Clock } from '../time/clock.ts';
import { ACR_MFA, ACR_PASSWORD } from '../governance/step-up.ts';

interface Person {
  readonly session: SignedIn;
  readonly user: UserDef;
  readonly csrfKey: string;
}

export interface CibaPageKit {
  readonly db: Database;
  readonly policy: PolicyStore;
  readonly forms: FormTokens;
  readonly now: Clock;
  /** Seconds a second factor counts as recent (GOVAUTH_MFA_MAX_AGE). */
  readonly mfaMaxAge: number;
  readonly approvals: CibaApprovals;
  person(ctx: Context): Promise<Person | undefined>;
  poster(ctx: Context): Promise<{ who: Person; form: Record<string, string> }>;
  actor(ctx: Context, user: UserDef): Actor;
  seeOther(ctx: Context, path: string): void;
}

const DATE = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' });
const when = (iso: string): string => `${DATE.format(Date.parse(iso))} UTC`;

const APPROVALS = '/account/approvals';
const STEP_UP_HREF = `/account/sign-in?${new URLSearchParams({ mfa: '1', return: APPROVALS }).toString()}`;
const CONFIRMATIONS: Record<string, string> = {
  approved: 'Approved: the agent can now get its token.',
  denied: 'Denied: the agent is told no.',
};

export function cibaPages(router: Router, kit: CibaPageKit): (ctx: Context) => Promise<Record<string, unknown> | undefined> {
  const fresh = (who: Person): boolean => mfaFresh(who.session.amr, who.session.authTime, kit.mfaMaxAge, kit.now());

  router.post('/agent-requests/:id', async (ctx) => {
    const { who, form } = await kit.poster(ctx);
    if (form.decision !== 'approve' && form.decision !== 'deny') throw new AppError('invalid_request', 'Choose Approve or Deny.');
    const isFresh = fresh(who);
    const session = { acr: isFresh ? ACR_MFA : ACR_PASSWORD, amr: who.session.amr, authTime: who.session.authTime };
    const decided = await kit.approvals.decide(ctx.params.id ?? '', who.user, session, { approve: form.decision === 'approve', mfaFresh: isFresh }, kit.actor(ctx, who.user));
    kit.seeOther(ctx, `${APPROVALS}?agent=${decided.approved ? 'approved' : 'denied'}`);
  });

  return async (ctx) => {
    const who = await kit.person(ctx);
    if (!who) return undefined;
    const isFresh = fresh(who);
    // Roles AND policy, the agent acting for this person, as the post will decide it.
    const approval = { abac: kit.policy.abac, amr: who.session.amr, authTime: who.session.authTime };
    const pending = await pendingCibaFor(kit.db, kit.policy.snapshot(), who.user, isFresh, kit.now(), approval);
    const requests = pending.map((r) => {
      const withheld = r.decision?.withheld ?? [];
      const needsStepUp = withheld.some((w) => w.reason === 'mfa_required');
      return {
        id: r.id,
        clientId: r.clientId,
        clientName: r.clientName,
        bindingMessage: r.bindingMessage,
        resourceName: r.resource?.name ?? '(no resource)',
        resourceAudience: r.resource?.audience ?? '',
        scopes: r.scopes,
        notices: r.decision ? [...withheldNotices(withheld, 'agent'), ...r.policyNotices] : ['This agent may no longer ask for this: it can only be denied.'],
        stepUpHref: needsStepUp ? STEP_UP_HREF : undefined,
        canApprove: Boolean(r.decision?.grantable.length) && !needsStepUp,
        requestedAt: when(r.requestedAt),
        expiresAt: when(r.expiresAt),
      };
    });
    const result = typeof ctx.query.agent === 'string' ? CONFIRMATIONS[ctx.query.agent] : undefined;
    return { requests, confirmation: result, csrf: kit.forms.issue(who.csrfKey) };
  };
}
