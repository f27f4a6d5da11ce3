// govauth role include|exclude|show and govauth role exclusive …: role hierarchies and
// separation of duties (src/governance/role-inclusions.ts, src/governance/exclusive-roles.ts).
import type { ExclusiveSetView, SodViolation } from '../../governance/exclusive-roles.ts';
import type { RoleHierarchyView } from '../../governance/role-inclusions.ts';
import type { RoleTreeNode } from '../../governance/role-hierarchy.ts';
import { list, str, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const inclusions = () => import('../../governance/role-inclusions.ts');
const exclusive = () => import('../../governance/exclusive-roles.ts');

const scopesText = (scopes: readonly string[]): string => (scopes.length ? scopes.join(' ') : '(no scopes of its own)');

function treeLines(nodes: readonly RoleTreeNode[]): string[] {
  return nodes.map((n) => `${'   '.repeat(n.depth - 1)}└─ ${n.name}: ${scopesText(n.scopes)}`);
}

/** The role, the tree of roles it includes, and what holding it gives. */
function roleTreeText(v: RoleHierarchyView): string {
  return [
    `role ${v.name}${v.description ? ` (${v.description})` : ''}: ${scopesText(v.scopes)}`,
    ...treeLines(v.includes),
    `effective scopes: ${v.effective_scopes.join(' ') || '(none)'}`,
    ...(v.included_by.length ? [`included by: ${v.included_by.join(', ')} (their holders hold ${v.name} too)`] : []),
    ...v.exclusive_sets.map((s) => `exclusive set ${s.name}: ${s.roles.join(', ')}${s.reason ? ` (${s.reason})` : ''}`),
  ].join('\n');
}

const setLine = (s: ExclusiveSetView): string => `set ${s.name}: ${s.roles.join(', ')}${s.reason ? ` (${s.reason})` : ''}`;
const violationLines = (violations: readonly SodViolation[]): string[] => violations.map((v) => `  VIOLATION ${v.message}`);

export const roleHierarchyCommands: Command[] = [
  {
    name: 'role include',
    usage: 'govauth role include <role> <included-role>',
    summary: 'make holders of <role> hold <included-role> too (its scopes, transitively); cycles and separation-of-duties violations are refused',
    options: {},
    positionals: ['role', 'included-role'],
    async run({ positionals }, ctx) {
      const { includeRole } = await inclusions();
      const role = await includeRole(await ctx.db(), { role: positionals[0] ?? '', included: positionals[1] ?? '' }, ctx.actor, ctx.now());
      return { json: { role }, text: `role ${role.name} now includes ${positionals[1] ?? ''}\n${roleTreeText(role)}` };
    },
  },
  {
    name: 'role exclude',
    usage: 'govauth role exclude <role> <included-role>',
    summary: 'stop <role> including <included-role>; tokens that relied on it become inactive at introspection',
    options: {},
    positionals: ['role', 'included-role'],
    async run({ positionals }, ctx) {
      const { excludeRole } = await inclusions();
      const role = await excludeRole(await ctx.db(), { role: positionals[0] ?? '', included: positionals[1] ?? '' }, ctx.actor);
      return { json: { role }, text: `role ${role.name} no longer includes ${positionals[1] ?? ''}\n${roleTreeText(role)}` };
    },
  },
  {
    name: 'role show',
    usage: 'govauth role show <role>',
    summary: 'a role: its scopes, the tree of roles it includes (with theirs), its effective scopes and exclusive sets',
    options: {},
    positionals: ['role'],
    async run({ positionals }, ctx) {
      const { showRole } = await inclusions();
      const role = await showRole(await ctx.db(), positionals[0] ?? '');
      return { json: { role }, text: roleTreeText(role) };
    },
  },
  {
    name: 'role exclusive add',
    usage: 'govauth role exclusive add <role> <role> [--also <r3,r4>] [--name <set-name>] [--reason <text>]',
    summary: 'declare mutually exclusive roles (separation of duties): no one may hold two of them at once, directly, time-boxed or through included roles',
    options: { also: { type: 'string', multiple: true }, name: { type: 'string' }, reason: { type: 'string' } },
    positionals: ['role', 'other-role'],
    async run({ values, positionals }, ctx) {
      const { createExclusiveSet } = await exclusive();
      const roles = [...positionals, ...(list(values, 'also') ?? [])];
      const { set, violations } = await createExclusiveSet(await ctx.db(), { roles, name: str(values, 'name'), reason: str(values, 'reason') }, ctx.actor, ctx.now());
      const warning = violations.length
        ? [`WARNING: ${violations.length} existing violation(s); new grants are refused, these remain until resolved (govauth review lists them):`, ...violationLines(violations)]
        : [];
      return { json: { set, violations }, text: [`declared ${setLine(set)}`, ...warning].join('\n') };
    },
  },
  {
    name: 'role exclusive list',
    usage: 'govauth role exclusive list',
    summary: 'list sets of mutually exclusive roles and every current violation',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const { listExclusiveSets } = await exclusive();
      const { sets, violations } = await listExclusiveSets(await ctx.db(), ctx.now());
      const text = [
        sets.length ? table(['SET', 'ROLES', 'REASON'], sets.map((s) => [s.name, s.roles.join(', '), s.reason ?? ''])) : 'no sets of mutually exclusive roles',
        ...(violations.length ? [`${violations.length} violation(s):`, ...violationLines(violations)] : []),
      ].join('\n');
      return { json: { sets, violations }, text };
    },
  },
  {
    name: 'role exclusive remove',
    usage: 'govauth role exclusive remove <set-name>',
    summary: 'withdraw a set of mutually exclusive roles',
    options: {},
    positionals: ['set-name'],
    async run({ positionals }, ctx) {
      const { removeExclusiveSet } = await exclusive();
      const set = await removeExclusiveSet(await ctx.db(), positionals[0] ?? '', ctx.actor);
      return { json: { set }, text: `removed ${setLine(set)}` };
    },
  },
];
