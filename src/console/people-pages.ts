// People (roles, second factors, sessions, enable/disable) and time-boxed grants, through the
// admin operations of user-routes.ts, session-routes.ts and grant-routes.ts.
import type { FactorView } from '../governance/factor-status.ts';
import type { PersonSessionView } from '../governance/person-sessions.ts';
import type { ConsoleAction, ConsolePage } from './console-kit.ts';
import { defined, offsetOf, required, text } from './form-values.ts';
import { timeBoxedGrants, type ListedUser } from './grant-rows.ts';
import { href, paginate, when } from './page-model.ts';

interface UserView extends ListedUser { id: string; disabled: boolean; mfa_enrolled: boolean; created_at: string }

/** A person's second factors in a few words (factor-status.ts counts them). */
const factorsText = (f: { totp: boolean; passkeys: number }): string =>
  [...(f.totp ? ['TOTP'] : []), ...(f.passkeys ? [`${f.passkeys} passkey${f.passkeys === 1 ? '' : 's'}`] : [])].join(', ') || 'none';
const personHref = (email: string): string => href('/console/person', { email });

const peoplePage: ConsolePage = {
  path: 'people',
  nav: 'People',
  async render({ operation, query, who, deps }) {
    const { users } = await operation<{ users: UserView[] }>('listUsers');
    // Passkeys from the policy snapshot (in memory, kept current): the list costs no query per person.
    const factorsOf = (u: UserView): string => {
      const known = deps.policy.user(u.id);
      return factorsText({ totp: known?.totpEnrolled ?? u.mfa_enrolled, passkeys: known?.passkeys ?? 0 });
    };
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
            { text: u.email, href: personHref(u.email) },
            u.roles.map((r) => (r.expires_at ? `${r.role} (until ${when(r.expires_at)})` : r.role)).join(', ') || null,
            factorsOf(u),
            u.disabled ? { text: 'disabled', badge: 'high' } : { text: 'active', badge: 'low' },
            admin
              ? { forms: [
                  u.disabled ? { action: 'user-enable', label: 'Enable', aria: `Enable ${u.email}`, fields: { email: u.email } } : { action: 'user-disable', label: 'Disable', danger: true, aria: `Disable ${u.email}`, fields: { email: u.email } },
                  ...(u.mfa_enrolled ? [{ action: 'user-mfa-reset', label: 'Reset second factor', danger: true, aria: `Reset second factor for ${u.email}`, fields: { email: u.email } }] : []),
                ] }
              : null,
          ]),
        },
        ...(admin ? [{ kind: 'notice' as const, title: 'Sessions', text: 'A person’s page lists where they are signed in, and ends one sign-in. To end all their sessions and tokens at once, revoke them on the Revocations page.', tone: 'warn' as const }] : []),
      ],
    };
  },
};

const personPage: ConsolePage = {
  path: 'person',
  async render({ operation, query, who, deps }) {
    const email = required(query, 'email');
    const [{ user }, { sessions }] = await Promise.all([
      operation<{ user: UserView & { factors: FactorView } }>('getUser', { params: { email } }),
      operation<{ sessions: PersonSessionView[] }>('listUserSessions', { params: { email } }),
    ]);
    const admin = who.role === 'admin';
    const clients = deps.policy.snapshot().clients;
    const f = user.factors;
    const needs = (list: FactorView['required']): string => list.map((r) => `${r.factor} (for ${r.roles.join(', ')})`).join('; ');
    return {
      title: user.email,
      sections: [
        {
          kind: 'facts', title: 'Person',
          items: [
            { label: 'Email', value: user.email },
            { label: 'State', value: user.disabled ? 'disabled' : 'active', tone: user.disabled ? 'bad' : 'ok' },
            { label: 'Created', value: when(user.created_at) },
          ],
        },
        {
          kind: 'table', title: 'Roles', columns: ['Role', 'Until'], empty: 'No roles.',
          rows: user.roles.map((r) => [r.role, r.expires_at ? when(r.expires_at) : 'no end']),
        },
        {
          kind: 'facts', title: 'Second factors',
          items: [
            { label: 'Authenticator app (TOTP)', value: f.totp ? 'enrolled' : 'none' },
            { label: 'Passkeys', value: String(f.passkeys) },
            { label: 'Recovery codes left', value: String(f.recovery_codes_left) },
            { label: 'Required by their roles', value: needs(f.required) || 'none' },
            ...(f.missing.length ? [{ label: 'Missing', value: needs(f.missing), tone: 'bad' as const }] : []),
          ],
        },
        {
          kind: 'table', title: `Sessions (${sessions.length})`, intro: 'Where this person is signed in. Ending a sign-in signs that browser out and revokes what the apps signed in with it hold.',
          columns: ['Browser', 'Address', 'Signed in', 'Last seen', 'Apps', ''], empty: 'Not signed in anywhere.',
          rows: sessions.map((s) => [
            s.browser,
            s.ip,
            when(s.signed_in_at),
            when(s.last_seen_at),
            s.apps.map((id) => clients.get(id)?.name ?? id).join(', ') || null,
            admin ? { forms: [{ action: 'user-session-end', label: 'End session', danger: true, aria: `End session: ${s.browser}, signed in ${when(s.signed_in_at)}`, fields: { email: user.email, id: s.id } }] } : null,
          ]),
        },
        { kind: 'form', title: 'More', method: 'get', action: '/console/people', form: { action: '', label: 'Back to people', inputs: [{ name: 'q', label: 'Email contains', type: 'text', value: user.email }] } },
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

export const peoplePages: readonly ConsolePage[] = [peoplePage, personPage, grantsPage];

const email = (f: Readonly<Record<string, string>>) => ({ email: required(f, 'email') });

export const peopleActions: readonly ConsoleAction[] = [
  { name: 'user-disable', operationId: 'disableUser', input: (f) => ({ params: email(f) }), confirm: (f) => `${f.email ?? ''} can no longer sign in, and their tokens turn inactive.`, done: (_, f) => ({ message: `Disabled ${f.email ?? ''}.` }) },
  { name: 'user-enable', operationId: 'enableUser', input: (f) => ({ params: email(f) }), done: (_, f) => ({ message: `Enabled ${f.email ?? ''}.` }) },
  { name: 'user-mfa-reset', operationId: 'resetMfa', input: (f) => ({ params: email(f) }), confirm: (f) => `${f.email ?? ''} loses their second factor and must enroll again.`, done: (_, f) => ({ message: `Reset the second factor of ${f.email ?? ''}.` }) },
  {
    name: 'user-session-end', operationId: 'endUserSession', input: (f) => ({ params: { ...email(f), id: required(f, 'id') } }),
    confirm: (f) => `This sign-in of ${f.email ?? ''} ends: that browser is signed out, and the apps signed in with it lose their access (refresh tokens deleted, access tokens inactive).`,
    done: (_, f) => ({ message: `Ended a sign-in of ${f.email ?? ''}.` }),
  },
  { name: 'user-role-grant', operationId: 'grantUserRole', input: (f) => ({ params: email(f), body: defined({ role: required(f, 'role'), expires_in: text(f, 'expires_in'), reason: text(f, 'reason') }) }), done: (_, f) => ({ message: `Granted ${f.role ?? ''} to ${f.email ?? ''}.` }) },
  { name: 'user-role-remove', operationId: 'removeUserRoleGrant', input: (f) => ({ params: { ...email(f), role: required(f, 'role') } }), confirm: (f) => `${f.email ?? ''} loses the role ${f.role ?? ''} now.`, done: (_, f) => ({ message: `Ended the grant of ${f.role ?? ''} to ${f.email ?? ''}.` }) },
];
