// Role hierarchies and separation of duties (role-hierarchy-routes.ts), as `govauth role show|
// include|exclude` and `govauth role exclusive add|list|remove`, and deleting a role (`govauth
// role delete`, governance/role-deletion.ts), called as the signed-in person.
import { BUILT_IN_ROLES } from '../governance/admin-model.ts';
import type { ConsoleAction, ConsolePage } from './console-kit.ts';
import { csv, defined, required, text } from './form-values.ts';
import { when } from './page-model.ts';

interface SetView { name: string; roles: string[]; reason: string | null; created_at: string }
interface ViolationView { principal_type: string; principal: string; set: string; roles: string[]; message: string }
interface HierarchyView { name: string; description: string; scopes: string[]; effective_scopes: string[]; includes: { name: string; parent: string; depth: number; scopes: string[] }[]; included_by: string[]; exclusive_sets: { name: string; roles: string[]; reason: string | null }[] }

const rolesPage: ConsolePage = {
  path: 'roles',
  nav: 'Roles',
  async render({ deps, operation, who }) {
    const snap = deps.policy.snapshot();
    const { sets, violations } = await operation<{ sets: SetView[]; violations: ViolationView[] }>('listExclusiveRoleSets');
    const admin = who.role === 'admin';
    return {
      title: 'Roles: hierarchy and separation of duties',
      sections: [
        {
          kind: 'table', title: 'Roles and the roles they include', columns: ['Role', 'Includes', 'Own scopes', ''], empty: 'No roles.',
          rows: [...snap.roles.values()].map((r) => [{ text: r.name, href: `/console/roles/show?name=${encodeURIComponent(r.name)}` }, [...(r.includes ?? [])].join(', ') || null, [...r.scopes].join(', ') || null,
            admin && r.includes?.size ? { forms: [...r.includes].map((i) => ({ action: 'role-exclude', label: `Stop including ${i}`, danger: true, aria: `${r.name}: stop including ${i}`, fields: { name: r.name, included: i } })) } : null]),
        },
        { kind: 'table', title: `Mutually exclusive role sets (${sets.length})`, columns: ['Set', 'Roles', 'Reason', 'Since', ''], empty: 'No set declared.', rows: sets.map((s) => [s.name, s.roles.join(', '), s.reason, when(s.created_at), admin ? { forms: [{ action: 'exclusive-set-remove', label: 'Withdraw', danger: true, aria: `Withdraw ${s.name}`, fields: { name: s.name } }] } : null]) },
        { kind: 'table', title: `Violations now (${violations.length})`, columns: ['Who', 'Set', 'Roles held together', 'What'], empty: 'Nobody holds two roles of one set.', rows: violations.map((v) => [`${v.principal_type} ${v.principal}`, v.set, v.roles.join(', '), v.message]) },
        ...(admin
          ? [
              { kind: 'form' as const, title: 'Include a role', intro: 'Holders of the role hold the included role too, transitively. A cycle or a separation-of-duties violation is refused.', form: { action: 'role-include', label: 'Include', inputs: [{ name: 'name', label: 'Role', type: 'text' as const, required: true }, { name: 'included', label: 'Role it includes', type: 'text' as const, required: true }] } },
              { kind: 'form' as const, title: 'Declare mutually exclusive roles', form: { action: 'exclusive-set-create', label: 'Declare', inputs: [{ name: 'roles', label: 'Roles no one may hold together', type: 'text' as const, required: true, hint: 'Comma-separated, two or more' }, { name: 'name', label: 'Set name (optional)', type: 'text' as const }, { name: 'reason', label: 'Reason (optional)', type: 'text' as const }] } },
            ]
          : []),
      ],
    };
  },
};

const roleShowPage: ConsolePage = {
  path: 'roles/show',
  async render({ operation, query, who }) {
    const { role } = await operation<{ role: HierarchyView }>('showRoleHierarchy', { params: { name: query.name ?? '' } });
    const builtIn = BUILT_IN_ROLES.includes(role.name);
    return {
      title: `Role ${role.name}`,
      sections: [
        { kind: 'facts', title: 'What holding it gives', items: [{ label: 'Description', value: role.description || '—' }, { label: 'Own scopes', value: role.scopes.join(', ') || 'none' }, { label: 'Effective scopes', value: role.effective_scopes.join(', ') || 'none' }, { label: 'Included by', value: role.included_by.join(', ') || 'no role' }] },
        { kind: 'table', title: 'Roles it includes (depth first)', columns: ['Role', 'Through', 'Depth', 'Scopes'], empty: 'It includes no role.', rows: role.includes.map((i) => [`${'· '.repeat(i.depth - 1)}${i.name}`, i.parent, i.depth, i.scopes.join(', ') || null]) },
        { kind: 'table', title: 'Exclusive sets it belongs to', columns: ['Set', 'Roles', 'Reason'], empty: 'None.', rows: role.exclusive_sets.map((s) => [s.name, s.roles.join(', '), s.reason]) },
        ...(builtIn
          ? [{ kind: 'notice' as const, title: 'Built in', text: 'govauth relies on this role (the admin API, the console, access requests), so it cannot be deleted.', tone: 'ok' as const }]
          : who.role === 'admin'
            ? [{
                kind: 'form' as const, title: 'Delete this role',
                intro: 'Refused while anyone holds it, another role includes it, or a delegation or access policy names it, unless you tick the box: then its holders lose it, those policies go, and tokens carrying it stop being accepted at once.',
                form: { action: 'role-delete', label: 'Delete role', danger: true, fields: { name: role.name }, inputs: [{ name: 'force', label: 'Even if held or referenced', type: 'checkbox' as const, value: '' }] },
              }]
            : []),
      ],
    };
  },
};

export const rolePages: readonly ConsolePage[] = [rolesPage, roleShowPage];

export const roleActions: readonly ConsoleAction[] = [
  { name: 'role-include', operationId: 'includeRole', input: (f) => ({ params: { name: required(f, 'name'), included: required(f, 'included') } }), done: (_, f) => ({ message: `${f.name ?? ''} now includes ${f.included ?? ''}.` }) },
  { name: 'role-exclude', operationId: 'excludeRole', input: (f) => ({ params: { name: required(f, 'name'), included: required(f, 'included') } }), confirm: (f) => `Holders of ${f.name ?? ''} no longer hold ${f.included ?? ''} through it; tokens that relied on it turn inactive.`, done: (_, f) => ({ message: `${f.name ?? ''} no longer includes ${f.included ?? ''}.` }) },
  { name: 'exclusive-set-create', operationId: 'createExclusiveRoleSet', input: (f) => ({ body: defined({ roles: csv(f, 'roles') ?? [], name: text(f, 'name'), reason: text(f, 'reason') }) }), done: ({ result }) => { const r = result as { set: SetView; violations: unknown[] }; return { message: `Declared ${r.set.name}; ${r.violations.length} current violation${r.violations.length === 1 ? '' : 's'}.` }; } },
  {
    name: 'role-delete', operationId: 'deleteRole',
    input: (f) => ({ params: { name: required(f, 'name') }, query: f.force === 'yes' ? { force: 'true' } : {} }),
    confirm: (f) => f.force === 'yes'
      ? `Role ${f.name ?? ''} is deleted now: everyone holding it loses it, roles and delegation or access policies naming it no longer do, and tokens carrying it stop being accepted on every instance.`
      : `Role ${f.name ?? ''} is deleted now, unless it is still held or referenced (then nothing changes). Tokens carrying it stop being accepted.`,
    done: ({ result }) => {
      const d = (result as { deleted: { name: string; holders: { people: number; clients: number } } }).deleted;
      const lost = d.holders.people + d.holders.clients;
      return { message: `Deleted role ${d.name}${lost ? `; ${lost} holder${lost === 1 ? '' : 's'} lost it` : ''}.`, next: '/console/roles' };
    },
  },
  { name: 'exclusive-set-remove', operationId: 'removeExclusiveRoleSet', input: (f) => ({ params: { name: required(f, 'name') } }), confirm: (f) => `Roles of ${f.name ?? ''} may be held together again.`, done: (_, f) => ({ message: `Withdrew ${f.name ?? ''}.` }) },
];
