// People (roles, second factor, enable/disable) and time-boxed grants, through the admin
// operations of user-routes.ts and grant-routes.ts.
import type { ConsoleAction, ConsolePage } from './console-kit.ts';
import { defined, offsetOf, required, text } from './form-values.ts';
import { timeBoxedGrants, type ListedUser } from './grant-rows.ts';
import { href, paginate, when } from './page-model.ts';

interface UserView extends ListedUser { id: string; disabled: boolean; mfa_enrolled: boolean; created_at: string }

const peoplePage: ConsolePage = {
  path: 'people',
  nav: 'People',
  async render({ operation, query, who }) {
    const { users } = await operation<{ users: UserView[] }>('listUsers');
    const q = (query.q ?? '').toLowerCase();
    const matching = users.filter((u) => !q || u.email.toLowerCase().includes(q));
    const { page, pager } = paginate(matching, offsetOf(query), 50, (offset) => href('/console/people', { q: query.q, offset }));
    const admin = who.role === 'admin';
    return {
      title: 'People',
      sections: [
        { kind: 'form', title: 'Find a person', method: 'get', action: '/console/people', form: { action: '', label: 'Search', inputs: [{ name: 'q', label: 'Email contains', type: 'text', value: query.q ?? '' }] } },
        {
          kind: 'table', title: `People (${matching.length})`, columns: ['Email', 'Roles', 'Second factor', 'State', ''], empty: 'Nobody matches.', pager,
          rows: page.map((u) => [
            u.email,
            u.roles.map((r) => (r.expires_at ? `${r.role} (until ${when(r.expires_at)})` : r.role)).join(', ') || null,
            u.mfa_enrolled ? 'TOTP enrolled' : 'none',
            u.disabled ? { text: 'disabled', badge: 'high' } : { text: 'active', badge: 'low' },
            admin
              ? { forms: [
                  u.disabled ? { action: 'user-enable', label: 'Enable', aria: `Enable ${u.email}`, fields: { email: u.email } } : { action: 'user-disable', label: 'Disable', danger: true, aria: `Disable ${u.email}`, fields: { email: u.email } },
                  ...(u.mfa_enrolled ? [{ action: 'user-mfa-reset', label: 'Reset second factor', danger: true, aria: `Reset second factor for ${u.email}`, fields: { email: u.email } }] : []),
                ] }
              : null,
          ]),
        },
        ...(admin ? [{ kind: 'notice' as const, title: 'Sessions', text: 'To end a person’s sessions and tokens now, revoke them on the Revocations page: their refresh tokens end and their access tokens turn inactive.', tone: 'warn' as const }] : []),
      ],
    };
  },
};

const grantsPage: ConsolePage = {
  path: 'grants',
  nav: 'Grants',
  async render({ operation, deps, who }) {
    const { users } = await operation<{ users: ListedUser[] }>('listUsers');
    const now = deps.now();
    const rows = timeBoxedGrants(deps.policy.snapshot(), users, now, Number.MAX_SAFE_INTEGER);
    const admin = who.role === 'admin';
    return {
      title: 'Time-boxed grants',
      sections: [
        {
          kind: 'table', title: `Grants with an end (${rows.length})`, columns: ['Holder', 'Role', 'Ends', ''], empty: 'No time-boxed grant is in force.',
          rows: rows.slice(0, 500).map((g) => [g.label, g.role, when(g.expiresAt), admin ? { forms: [{ action: g.type === 'user' ? 'user-role-remove' : 'client-role-remove', label: 'End grant', danger: true, aria: `End grant of ${g.role} to ${g.label}`, fields: { [g.type === 'user' ? 'email' : 'id']: g.label, role: g.role } }] } : null]),
        },
        ...(admin
          ? [{ kind: 'form' as const, title: 'Grant a person a role for a time', form: { action: 'user-role-grant', label: 'Grant', inputs: [{ name: 'email', label: 'Email', type: 'email' as const, required: true }, { name: 'role', label: 'Role', type: 'text' as const, required: true }, { name: 'expires_in', label: 'For how long', type: 'text' as const, hint: '90m, 8h, 7d; empty for no end', value: '8h' }, { name: 'reason', label: 'Reason', type: 'text' as const }] } }]
          : []),
      ],
    };
  },
};

export const peoplePages: readonly ConsolePage[] = [peoplePage, grantsPage];

const email = (f: Readonly<Record<string, string>>) => ({ email: required(f, 'email') });

export const peopleActions: readonly ConsoleAction[] = [
  { name: 'user-disable', operationId: 'disableUser', input: (f) => ({ params: email(f) }), confirm: (f) => `${f.email ?? ''} can no longer sign in, and their tokens turn inactive.`, done: (_, f) => ({ message: `Disabled ${f.email ?? ''}.` }) },
  { name: 'user-enable', operationId: 'enableUser', input: (f) => ({ params: email(f) }), done: (_, f) => ({ message: `Enabled ${f.email ?? ''}.` }) },
  { name: 'user-mfa-reset', operationId: 'resetMfa', input: (f) => ({ params: email(f) }), confirm: (f) => `${f.email ?? ''} loses their second factor and must enroll again.`, done: (_, f) => ({ message: `Reset the second factor of ${f.email ?? ''}.` }) },
  { name: 'user-role-grant', operationId: 'grantUserRole', input: (f) => ({ params: email(f), body: defined({ role: required(f, 'role'), expires_in: text(f, 'expires_in'), reason: text(f, 'reason') }) }), done: (_, f) => ({ message: `Granted ${f.role ?? ''} to ${f.email ?? ''}.` }) },
  { name: 'user-role-remove', operationId: 'removeUserRoleGrant', input: (f) => ({ params: { ...email(f), role: required(f, 'role') } }), confirm: (f) => `${f.email ?? ''} loses the role ${f.role ?? ''} now.`, done: (_, f) => ({ message: `Ended the grant of ${f.role ?? ''} to ${f.email ?? ''}.` }) },
];
