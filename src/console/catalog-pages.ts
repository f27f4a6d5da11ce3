// Resources, scopes and roles (catalog-routes.ts), listed from the policy snapshot.
import type { ConsoleAction, ConsolePage } from './console-kit.ts';
import { csv, defined, required, text } from './form-values.ts';

const catalogPage: ConsolePage = {
  path: 'catalog',
  nav: 'Catalogue',
  render({ deps, who }) {
    const snap = deps.policy.snapshot();
    const admin = who.role === 'admin';
    const sens = [{ value: 'low', label: 'low' }, { value: 'medium', label: 'medium' }, { value: 'high', label: 'high' }];
    return Promise.resolve({
      title: 'Resources, scopes and roles',
      sections: [
        { kind: 'table', title: 'Resources', columns: ['Audience', 'Name', 'Scopes', 'Proof of possession'], empty: 'No resources.', rows: [...snap.resources.values()].map((r) => [{ text: r.audience, code: true }, r.name, [...r.scopes].join(', '), r.requirePop ? 'required' : 'no']) },
        { kind: 'table', title: 'Scopes', columns: ['Scope', 'Sensitivity', 'Description', 'Max lifetime (s)'], empty: 'No scopes.', rows: [...snap.scopes.values()].map((s) => [{ text: s.name, code: true }, { text: s.sensitivity, badge: s.sensitivity }, s.description, s.maxTtl]) },
        { kind: 'table', title: 'Roles', columns: ['Role', 'Description', 'Scopes'], empty: 'No roles.', rows: [...snap.roles.values()].map((r) => [r.name, r.description, [...r.scopes].join(', ')]) },
        ...(admin
          ? [
              { kind: 'form' as const, title: 'Define a scope', form: { action: 'scope-create', label: 'Define scope', inputs: [{ name: 'name', label: 'Scope name', type: 'text' as const, required: true }, { name: 'description', label: 'Scope description', type: 'text' as const, required: true }, { name: 'sensitivity', label: 'Sensitivity', type: 'select' as const, options: sens, value: 'low' }] } },
              { kind: 'form' as const, title: 'Create a role', form: { action: 'role-create', label: 'Create role', inputs: [{ name: 'name', label: 'Role name', type: 'text' as const, required: true }, { name: 'description', label: 'Role description', type: 'text' as const }, { name: 'scopes', label: 'Role scopes', type: 'text' as const, hint: 'Comma-separated scope names' }] } },
              { kind: 'form' as const, title: 'Register a resource', form: { action: 'resource-create', label: 'Register resource', inputs: [{ name: 'audience', label: 'Audience (URI)', type: 'text' as const, required: true }, { name: 'name', label: 'Resource name', type: 'text' as const, required: true }, { name: 'scopes', label: 'Resource scopes', type: 'text' as const, hint: 'Comma-separated scope names' }] } },
            ]
          : []),
      ],
    });
  },
};

export const catalogPages: readonly ConsolePage[] = [catalogPage];

export const catalogActions: readonly ConsoleAction[] = [
  { name: 'scope-create', operationId: 'createScope', input: (f) => ({ body: defined({ name: required(f, 'name'), description: required(f, 'description'), sensitivity: text(f, 'sensitivity') }) }), done: (_, f) => ({ message: `Defined ${f.name ?? ''}.` }) },
  { name: 'role-create', operationId: 'createRole', input: (f) => ({ body: defined({ name: required(f, 'name'), description: text(f, 'description'), scopes: csv(f, 'scopes') ?? [] }) }), done: (_, f) => ({ message: `Created role ${f.name ?? ''}.` }) },
  { name: 'resource-create', operationId: 'createResource', input: (f) => ({ body: defined({ audience: required(f, 'audience'), name: required(f, 'name'), scopes: csv(f, 'scopes') ?? [] }) }), done: (_, f) => ({ message: `Registered ${f.audience ?? ''}.` }) },
];
