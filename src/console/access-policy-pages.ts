// Access policies (how a role, or one scope on one resource, may be requested: approver role,
// distinct approvers, longest duration, lapse) and the time-boxed scope grants approved requests
// made, through access-request-routes.ts and scope-access-routes.ts, called as the signed-in person.
import type { ConsoleAction, ConsolePage } from './console-kit.ts';
import { checked, defined, required, text } from './form-values.ts';
import { when } from './page-model.ts';

interface RolePolicyView { role: string; require_approval: boolean; approvals: number; approver_role: string; max_duration: number; lapse_after: number; updated_at: string }
interface ScopePolicyView extends Omit<RolePolicyView, 'role'> { resource: string; scope: string }
interface UserRow { id: string; email: string }

const hours = (s: number): string => (s % 3600 === 0 ? `${s / 3600} h` : `${Math.round(s / 60)} min`);
const how = (p: Omit<RolePolicyView, 'role' | 'updated_at'>): string => (p.require_approval ? `${p.approvals} approver${p.approvals === 1 ? '' : 's'} holding ${p.approver_role}` : 'granted at once (recorded)');

const policyInputs = [
  { name: 'approver_role', label: 'Approver role', type: 'text' as const, hint: 'Needed when the policy is first set' },
  { name: 'approvals', label: 'Distinct approvers', type: 'select' as const, value: '1', options: [{ value: '1', label: '1' }, { value: '2', label: '2 (two-person rule)' }] },
  { name: 'max_duration', label: 'Longest duration', type: 'text' as const, hint: '8h, 7d' },
  { name: 'lapse_after', label: 'Lapses after', type: 'text' as const, hint: 'Default 24h' },
  { name: 'no_approval', label: 'Grant at once, without approval', type: 'checkbox' as const, value: '' },
];

const accessPoliciesPage: ConsolePage = {
  path: 'access-policies',
  nav: 'Access policies',
  async render({ operation, deps, who }) {
    const [roles, scopes, people] = await Promise.all([
      operation<{ policies: RolePolicyView[] }>('listAccessPolicies'),
      operation<{ policies: ScopePolicyView[] }>('listScopeAccessPolicies'),
      operation<{ users: UserRow[] }>('listUsers'),
    ]);
    const admin = who.role === 'admin';
    const now = deps.now();
    const snapshot = deps.policy.snapshot();
    const scopeGrants = [
      ...people.users.flatMap((u) => (deps.policy.user(u.id)?.scopeGrants ?? []).map((g) => ({ type: 'user' as const, key: u.email, label: u.email, g }))),
      ...[...snapshot.clients.values()].flatMap((c) => (c.scopeGrants ?? []).map((g) => ({ type: 'client' as const, key: c.id, label: c.name, g }))),
    ].filter((x) => x.g.expiresAt > now).sort((a, b) => a.g.expiresAt - b.g.expiresAt);
    return {
      title: 'Access policies and scope grants',
      sections: [
        {
          kind: 'table', title: `Roles that may be requested (${roles.policies.length})`, columns: ['Role', 'Decided by', 'Longest', 'Lapses after', 'Changed', ''], empty: 'No role may be requested.',
          rows: roles.policies.map((p) => [p.role, how(p), hours(p.max_duration), hours(p.lapse_after), when(p.updated_at), admin ? { forms: [{ action: 'access-policy-remove', label: 'Stop', danger: true, aria: `Stop ${p.role} being requested`, fields: { role: p.role } }] } : null]),
        },
        {
          kind: 'table', title: `Scopes that may be requested (${scopes.policies.length})`, columns: ['Scope', 'Resource', 'Decided by', 'Longest', 'Lapses after', ''], empty: 'No single scope may be requested.',
          rows: scopes.policies.map((p) => [{ text: p.scope, code: true }, { text: p.resource, code: true }, how(p), hours(p.max_duration), hours(p.lapse_after), admin ? { forms: [{ action: 'scope-policy-remove', label: 'Stop', danger: true, aria: `Stop ${p.scope} on ${p.resource} being requested`, fields: { scope: p.scope, resource: p.resource } }] } : null]),
        },
        {
          kind: 'table', title: `Time-boxed scope grants in force (${scopeGrants.length})`, columns: ['Holder', 'Scope', 'Resource', 'Ends', ''], empty: 'No scope grant is in force.',
          rows: scopeGrants.slice(0, 500).map(({ type, key, label, g }) => [label, { text: g.scope, code: true }, { text: g.audience, code: true }, when(new Date(g.expiresAt).toISOString()),
            admin ? { forms: [{ action: type === 'user' ? 'user-scope-grant-remove' : 'client-scope-grant-remove', label: 'End', danger: true, aria: `End ${g.scope} for ${label}`, fields: { [type === 'user' ? 'email' : 'id']: key, scope: g.scope, resource: g.audience } }] } : null]),
        },
        ...(admin
          ? [
              { kind: 'form' as const, title: 'Let a role be requested', form: { action: 'access-policy-set', label: 'Set role policy', inputs: [{ name: 'role', label: 'Role', type: 'text' as const, required: true }, ...policyInputs] } },
              { kind: 'form' as const, title: 'Let one scope be requested', form: { action: 'scope-policy-set', label: 'Set scope policy', inputs: [{ name: 'scope', label: 'Scope', type: 'text' as const, required: true }, { name: 'resource', label: 'Resource (audience)', type: 'text' as const, required: true }, ...policyInputs] } },
            ]
          : []),
      ],
    };
  },
};

export const accessPolicyPages: readonly ConsolePage[] = [accessPoliciesPage];

/** The form as a policy body; approvals as the number the schema expects (anything else it refuses). */
const policyBody = (f: Readonly<Record<string, string>>): Record<string, unknown> =>
  defined({
    approver_role: text(f, 'approver_role'),
    approvals: f.approvals === '1' ? 1 : f.approvals === '2' ? 2 : text(f, 'approvals'),
    max_duration: text(f, 'max_duration'),
    lapse_after: text(f, 'lapse_after'),
    ...(checked(f, 'no_approval') && { require_approval: false }),
  });

const target = (f: Readonly<Record<string, string>>) => ({ resource: required(f, 'resource'), scope: required(f, 'scope') });

export const accessPolicyActions: readonly ConsoleAction[] = [
  { name: 'access-policy-set', operationId: 'setAccessPolicy', input: (f) => ({ params: { role: required(f, 'role') }, body: policyBody(f) }), done: (_, f) => ({ message: `${f.role ?? ''} may be requested.` }) },
  { name: 'access-policy-remove', operationId: 'removeAccessPolicy', input: (f) => ({ params: { role: required(f, 'role') } }), confirm: (f) => `${f.role ?? ''} can no longer be requested; pending requests for it can no longer be approved.`, done: (_, f) => ({ message: `${f.role ?? ''} can no longer be requested.` }) },
  { name: 'scope-policy-set', operationId: 'setScopeAccessPolicy', input: (f) => ({ body: { ...target(f), ...policyBody(f) } }), done: (_, f) => ({ message: `${f.scope ?? ''} on ${f.resource ?? ''} may be requested.` }) },
  { name: 'scope-policy-remove', operationId: 'removeScopeAccessPolicy', input: (f) => ({ query: target(f) }), confirm: (f) => `${f.scope ?? ''} on ${f.resource ?? ''} can no longer be requested.`, done: (_, f) => ({ message: `${f.scope ?? ''} on ${f.resource ?? ''} can no longer be requested.` }) },
  { name: 'user-scope-grant-remove', operationId: 'removeUserScopeGrant', input: (f) => ({ params: { email: required(f, 'email') }, query: target(f) }), confirm: (f) => `${f.email ?? ''} loses ${f.scope ?? ''} on ${f.resource ?? ''} now; their tokens carrying it turn inactive on every instance.`, done: (_, f) => ({ message: `Ended ${f.scope ?? ''} for ${f.email ?? ''}.` }) },
  { name: 'client-scope-grant-remove', operationId: 'removeClientScopeGrant', input: (f) => ({ params: { id: required(f, 'id') }, query: target(f) }), confirm: (f) => `${f.id ?? ''} loses ${f.scope ?? ''} on ${f.resource ?? ''} now; its tokens carrying it turn inactive on every instance.`, done: (_, f) => ({ message: `Ended ${f.scope ?? ''} for ${f.id ?? ''}.` }) },
];
