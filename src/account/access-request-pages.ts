// A signed-in person's access request pages: /account/requests (ask for a role, or one scope on
// one resource, for a time, see and cancel one's own requests) and /account/approvals (decide the requests one may decide).
// Server-rendered, no script, forms with the account pages' CSRF token; every rule is checked on
// the server by access-requests.ts at the moment of the post, whatever the page showed.
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Actor } from '../audit/audit-chain.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { listPolicies } from '../governance/access-policies.ts';
import { listScopePolicies } from '../governance/scope-access-policies.ts';
import type { AccessRequestEvents } from '../governance/access-request-events.ts';
import { approvableBy, requestsOf, type AccessRequestView } from '../governance/access-request-views.ts';
import { cancelAccessRequest, createAccessRequest, decideAccessRequest } from '../governance/access-requests.ts';
import { parseDuration } from '../governance/durations.ts';
import type { UserDef } from '../governance/policy-model.ts';
import type { FormTokens } from '../interactions/csrf.ts';
import type { Views } from '../pages/views.ts';
import type { Clock } from '../time/clock.ts';

/** What the account routes share with these pages (account-routes.ts). */
export interface AccountKit {
  readonly db: Database;
  readonly views: Views;
  readonly forms: FormTokens;
  readonly now: Clock;
  readonly events: AccessRequestEvents;
  /** The signed-in person, or undefined (then `signIn` sends them through the sign-in and back). */
  person(ctx: Context): Promise<{ user: UserDef; csrfKey: string } | undefined>;
  /** The signed-in person and their checked form, for a post. */
  poster(ctx: Context): Promise<{ who: { user: UserDef }; form: Record<string, string> }>;
  signIn(ctx: Context): void;
  actor(ctx: Context, user: UserDef): Actor;
  inForce<T>(work: () => Promise<T>): Promise<T>;
  seeOther(ctx: Context, path: string): void;
  /** The approvals page's section of CIBA requests (ciba-pages.ts); absent when CIBA is off. */
  agentRequests?(ctx: Context): Promise<Record<string, unknown> | undefined>;
}

const DATE = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const when = (iso: string): string => `${DATE.format(Date.parse(iso))} UTC`;
const human = (s: number): string => (s % 86_400 === 0 ? `${s / 86_400} day${s === 86_400 ? '' : 's'}` : s % 3600 === 0 ? `${s / 3600} hour${s === 3600 ? '' : 's'}` : `${Math.round(s / 60)} minutes`);

function progress(r: AccessRequestView): string {
  const approved = r.decisions.filter((d) => d.decision === 'approve').map((d) => d.approver_email);
  const denied = r.decisions.find((d) => d.decision === 'deny');
  if (denied) return `denied by ${denied.approver_email}${denied.reason ? ` (${denied.reason})` : ''}`;
  return approved.length ? `approved by ${approved.join(' and ')}` : 'no decision yet';
}

const item = (r: AccessRequestView) => ({
  id: r.id,
  role: r.role,
  /** What is asked for, in words: "role ops", "scope ai.deploy.manage on https://models.example". */
  target: r.target,
  state: r.state,
  holder: r.holder.label,
  duration: human(r.duration),
  justification: r.justification,
  requestedBy: r.requested_by.type === 'user' && r.requested_by.id === r.holder.id ? r.holder.label : `${r.requested_by.type} ${r.requested_by.id}`,
  requestedAt: when(r.requested_at),
  lapsesAt: when(r.lapses_at),
  grantUntil: r.grant_expires_at && when(r.grant_expires_at),
  progress: progress(r),
});

const CONFIRMATIONS: Record<string, string> = {
  requested: 'Your request is waiting for approval.',
  granted: 'Granted: the access is yours for the time you asked.',
  cancelled: 'Your request is cancelled.',
  approved: 'Approved.',
  completed: 'Approved: the access is granted now.',
  denied: 'Denied: the request has ended.',
};
const confirmation = (ctx: Context): string | undefined => (typeof ctx.query.result === 'string' ? CONFIRMATIONS[ctx.query.result] : undefined);

/** The form's target: a role (`role`), or one scope on one resource (`scope_target`: "<audience> <scope>"). */
function requestedTarget(form: Record<string, string>): { role: string } | { scope: string; resource: string } {
  const pair = form.scope_target;
  if (pair === undefined) return { role: form.role ?? '' };
  const at = pair.indexOf(' ');
  if (at < 1) throw new AppError('invalid_request', 'Choose a scope on a resource.');
  return { resource: pair.slice(0, at), scope: pair.slice(at + 1) };
}

export function accessRequestPages(router: Router, kit: AccountKit): void {
  router.get('/requests', async (ctx) => {
    const who = await kit.person(ctx);
    if (!who) return kit.signIn(ctx);
    const now = kit.now();
    const policies = (await listPolicies(kit.db)).map((p) => ({ role: p.role, max: human(p.max_duration), approvals: p.require_approval ? `${p.approvals} approver${p.approvals === 1 ? '' : 's'}` : 'no approval needed' }));
    const mine = (await requestsOf(kit.db, who.user.id, now)).map(item);
    const scopePolicies = (await listScopePolicies(kit.db)).map((p) => ({
      // One field names both: an audience (an absolute URI) and a scope name hold no space.
      value: `${p.resource} ${p.scope}`,
      scope: p.scope,
      resource: p.resource,
      max: human(p.max_duration),
      approvals: p.require_approval ? `${p.approvals} approver${p.approvals === 1 ? '' : 's'}` : 'no approval needed',
    }));
    kit.views.render(ctx, 'access-requests', { email: who.user.email, policies, scopePolicies, requests: mine, confirmation: confirmation(ctx), csrf: kit.forms.issue(who.csrfKey) });
  });

  router.post('/requests', async (ctx) => {
    const { who, form } = await kit.poster(ctx);
    const duration = parseDuration(form.duration ?? '', 'the duration') / 1000;
    const target = requestedTarget(form);
    const made = await kit.inForce(() =>
      createAccessRequest(kit.db, { holder: { type: 'user', email: who.user.email }, ...target, duration, justification: form.justification ?? '' }, { type: 'user', id: who.user.id }, kit.actor(ctx, who.user), kit.now(), kit.events),
    );
    kit.seeOther(ctx, `/account/requests?result=${made.state === 'approved' ? 'granted' : 'requested'}`);
  });

  router.post('/requests/:id/cancel', async (ctx) => {
    const { who } = await kit.poster(ctx);
    await cancelAccessRequest(kit.db, ctx.params.id ?? '', { type: 'user', id: who.user.id }, kit.actor(ctx, who.user), kit.now(), kit.events);
    kit.seeOther(ctx, '/account/requests?result=cancelled');
  });

  router.get('/approvals', async (ctx) => {
    const who = await kit.person(ctx);
    if (!who) return kit.signIn(ctx);
    const waiting = (await approvableBy(kit.db, who.user.id, kit.now())).map(item);
    kit.views.render(ctx, 'approvals', { email: who.user.email, requests: waiting, confirmation: confirmation(ctx), csrf: kit.forms.issue(who.csrfKey), agentRequests: await kit.agentRequests?.(ctx) });
  });

  router.post('/approvals/:id', async (ctx) => {
    const { who, form } = await kit.poster(ctx);
    if (form.decision !== 'approve' && form.decision !== 'deny') throw new AppError('invalid_request', 'Choose Approve or Deny.');
    const approve = form.decision === 'approve';
    const reason = form.reason?.trim() ? form.reason : undefined;
    const decided = await kit.inForce(() =>
      decideAccessRequest(kit.db, ctx.params.id ?? '', { id: who.user.id }, { approve, ...(reason !== undefined && { reason }) }, kit.actor(ctx, who.user), kit.now(), kit.events),
    );
    kit.seeOther(ctx, `/account/approvals?result=${!approve ? 'denied' : decided.state === 'approved' ? 'completed' : 'approved'}`);
  });
}
