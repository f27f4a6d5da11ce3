// govauth user|client attr …, resource|scope label …, policy …: attribute-based access control
// with Cedar policy sets (src/governance/abac/).
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { AttributeSubject } from '../../governance/abac/abac-model.ts';
import type { Explanation } from '../../governance/abac/abac-explain.ts';
import { flag, int, list, required, str, UsageError, type Command, type Values } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const admin = () => import('../../governance/abac/abac-admin.ts');
const model = () => import('../../governance/abac/abac-model.ts');

const pairsText = (attrs: Record<string, string>): string => Object.entries(attrs).map(([k, v]) => `${k}=${v}`).join(' ') || '(none)';

function attributeCommands(group: string, word: 'attr' | 'label', kind: AttributeSubject, what: string): Command[] {
  const noun = word === 'attr' ? 'attributes' : 'labels';
  return [
    {
      name: `${group} ${word} set`,
      usage: `govauth ${group} ${word} set <${what}> <key=value>...`,
      summary: `set ${noun} of a ${group} (Cedar: ${kind === 'resource' ? 'resource' : kind === 'scope' ? 'context.scope' : 'principal'}.getTag("key"))`,
      options: {},
      positionals: [what, 'key=value'],
      variadic: true,
      async run({ positionals }, ctx) {
        const [name = '', ...pairs] = positionals;
        const { parseAssignments } = await model();
        const after = await (await admin()).setAttributes(await ctx.db(), kind, name, parseAssignments(pairs), ctx.actor, new Date(ctx.now()));
        return { json: { [group]: name, [noun]: after }, text: `${group} ${name} ${noun}: ${pairsText(after)}` };
      },
    },
    {
      name: `${group} ${word} remove`,
      usage: `govauth ${group} ${word} remove <${what}> (<key>... | --all)`,
      summary: `remove ${noun} of a ${group}`,
      options: { all: { type: 'boolean' } },
      positionals: [what],
      variadic: true,
      async run({ values, positionals }, ctx) {
        const [name = '', ...keys] = positionals;
        if (!flag(values, 'all') && !keys.length) throw new UsageError('name the keys to remove, or --all');
        const after = await (await admin()).removeAttributes(await ctx.db(), kind, name, flag(values, 'all') ? 'all' : keys, ctx.actor);
        return { json: { [group]: name, [noun]: after }, text: `${group} ${name} ${noun}: ${pairsText(after)}` };
      },
    },
    {
      name: `${group} ${word} list`,
      usage: `govauth ${group} ${word} list <${what}>`,
      summary: `show the ${noun} of a ${group}`,
      options: {},
      positionals: [what],
      async run({ positionals }, ctx) {
        const name = positionals[0] ?? '';
        const attrs = await (await admin()).listAttributes(await ctx.db(), kind, name);
        return { json: { [group]: name, [noun]: attrs }, text: Object.keys(attrs).length ? table(['KEY', 'VALUE'], Object.entries(attrs)) : `${group} ${name} has no ${noun}` };
      },
    },
  ];
}

/** Every .cedar file of a directory (not recursive), or one file. */
async function readPolicyFiles(path: string): Promise<Record<string, string>> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new UsageError(`no file or directory ${path}`);
  }
  const files = info.isDirectory() ? (await readdir(path)).filter((f) => f.endsWith('.cedar')).sort().map((f) => join(path, f)) : [path];
  const out: Record<string, string> = {};
  for (const file of files) out[basename(file)] = await readFile(file, 'utf8');
  return out;
}

function versionArg(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^v?(\d{1,9})$/.exec(text);
  if (!m) throw new UsageError(`a version is a number (govauth policy list), got ${JSON.stringify(text)}`);
  return Number(m[1]);
}

function instant(values: Values, now: number): number {
  const at = str(values, 'at');
  if (at === undefined) return now;
  // Accepts 2026-12-05T22:00Z (minutes, no seconds) as well as full ISO 8601.
  const ms = Date.parse(/T\d{2}:\d{2}Z$/.test(at) ? at.replace('Z', ':00Z') : at);
  if (!Number.isFinite(ms)) throw new UsageError(`--at must be an ISO 8601 instant, e.g. 2026-12-05T22:00Z (got ${JSON.stringify(at)})`);
  return ms;
}

function explanationText(e: Explanation): string {
  const lines = [
    `decision: ${e.decision.toUpperCase()}  (${e.principal}, ${e.scope} on ${e.resource})`,
    `  roles:  ${e.roles.granted ? `granted through ${e.roles.through.join(', ')}` : 'not granted by any role'}`,
    `  policy: ${e.version === null ? 'no policy set active (roles only)' : `v${e.version}: ${e.policy?.permitted ? 'PERMIT' : 'DENY'}, ${e.policy?.message ?? ''}`}`,
    `  context: ${Object.entries(e.context).filter(([k]) => k !== 'amr' && k !== 'minute').map(([k, v]) => `${k}=${v === null ? '(none)' : JSON.stringify(v)}`).join(' ')}`,
  ];
  if (e.version !== null) lines.push(e.wouldChange.length ? 'would change it:' : 'no single change of hour, weekday, zone, second factor, binding or delegation changes it', ...e.wouldChange.map((w) => `  - ${w}`));
  return lines.join('\n');
}

export const abacCommands: Command[] = [
  ...attributeCommands('user', 'attr', 'person', 'email'),
  ...attributeCommands('client', 'attr', 'client', 'client-id'),
  ...attributeCommands('resource', 'label', 'resource', 'audience-uri'),
  ...attributeCommands('scope', 'label', 'scope', 'scope'),
  {
    name: 'policy validate',
    usage: 'govauth policy validate <dir-or-file>',
    summary: 'check Cedar policy files against the schema generated from the catalogue (nothing is stored)',
    options: {},
    positionals: ['dir-or-file'],
    async run({ positionals }, ctx) {
      const report = await (await admin()).validatePolicies(await ctx.db(), await readPolicyFiles(positionals[0] ?? ''));
      const text = [
        report.valid ? `valid: ${report.policies.length} policies (${report.policies.map((p) => p.id).join(', ')})` : 'NOT valid:',
        ...report.problems.map((p) => `  error: ${p.message}`),
        ...report.warnings.map((w) => `  warning: ${w}`),
      ].join('\n');
      if (!report.valid) {
        const { AppError } = await import('../../errors/app-error.ts');
        throw new AppError('invalid_request', text, { detail: 'policy_invalid' });
      }
      return { json: { ...report }, text };
    },
  },
  {
    name: 'policy apply',
    usage: 'govauth policy apply <dir-or-file> [--no-activate]',
    summary: 'store the .cedar files as a new policy set version (validated first) and activate it on every instance',
    options: { 'no-activate': { type: 'boolean' } },
    positionals: ['dir-or-file'],
    async run({ values, positionals }, ctx) {
      const r = await (await admin()).applyPolicies(await ctx.db(), await readPolicyFiles(positionals[0] ?? ''), ctx.actor, new Date(ctx.now()), { activate: !flag(values, 'no-activate') });
      const warnings = r.report.warnings.map((w) => `\n  warning: ${w}`).join('');
      return { json: { version: r.version, activated: r.activated, policies: r.report.policies, warnings: r.report.warnings }, text: `stored policy set v${r.version} (${r.report.policies.length} policies)${r.activated ? ', active' : ', not activated (govauth policy activate ' + r.version + ')'}${warnings}` };
    },
  },
  {
    name: 'policy list',
    usage: 'govauth policy list',
    summary: 'list stored policy set versions and which one is active',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const versions = await (await admin()).listPolicyVersions(await ctx.db());
      return { json: { versions }, text: versions.length ? table(['VERSION', 'ACTIVE', 'CREATED', 'BY', 'SHA-256'], versions.map((v) => [`v${v.version}`, v.active ? 'yes' : '', v.created_at, v.created_by, v.sha256.slice(0, 16)])) : 'no policy set stored (roles alone decide)' };
    },
  },
  {
    name: 'policy show',
    usage: 'govauth policy show [version]',
    summary: 'print a policy set version as applied (default: the active one)',
    options: {},
    positionals: [],
    variadic: true,
    async run({ positionals }, ctx) {
      if (positionals.length > 1) throw new UsageError('expected at most one version');
      const v = await (await admin()).showPolicyVersion(await ctx.db(), versionArg(positionals[0]));
      const text = [`policy set v${v.version}${v.active ? ' (active)' : ''}, applied ${v.created_at} by ${v.created_by}`, ...Object.entries(v.sources).map(([f, t]) => `\n// ---- ${f}\n${t.trimEnd()}`)].join('\n');
      return { json: { ...v }, text };
    },
  },
  {
    name: 'policy activate',
    usage: 'govauth policy activate <version|none>',
    summary: 'activate a stored version on every instance (none: roles only)',
    options: {},
    positionals: ['version'],
    async run({ positionals }, ctx) {
      const arg = positionals[0];
      const r = await (await admin()).activatePolicyVersion(await ctx.db(), arg === 'none' ? null : (versionArg(arg) ?? null), ctx.actor, new Date(ctx.now()));
      return { json: { ...r }, text: r.version === null ? 'no policy set active: roles alone decide' : `policy set v${r.version} active (was ${r.previous === null ? 'none' : `v${r.previous}`})` };
    },
  },
  {
    name: 'policy rollback',
    usage: 'govauth policy rollback',
    summary: 'activate the version that was active before the current one',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const r = await (await admin()).rollbackPolicy(await ctx.db(), ctx.actor, new Date(ctx.now()));
      return { json: { ...r }, text: `rolled back: ${r.version === null ? 'no policy set active (roles only)' : `policy set v${r.version} active`} (was ${r.previous === null ? 'none' : `v${r.previous}`})` };
    },
  },
  {
    name: 'policy schema',
    usage: 'govauth policy schema',
    summary: 'print the Cedar schema (JSON) generated from the catalogue, that policies are validated against',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const [{ cedarSchema }, { loadPolicySnapshot }] = await Promise.all([import('../../governance/abac/cedar-schema.ts'), import('../../governance/policy-loader.ts')]);
      const schema = cedarSchema(await loadPolicySnapshot(await ctx.db()));
      return { json: { schema }, text: JSON.stringify(schema, null, 2) };
    },
  },
  {
    name: 'policy zone set',
    usage: 'govauth policy zone set <name> --cidrs <cidr1,cidr2>',
    summary: 'name a network zone (context.zones in policies) by its CIDR ranges',
    options: { cidrs: { type: 'string', multiple: true } },
    positionals: ['name'],
    async run({ values, positionals }, ctx) {
      const zone = await (await admin()).setZone(await ctx.db(), positionals[0] ?? '', list(values, 'cidrs') ?? [required(values, 'cidrs')], ctx.actor, new Date(ctx.now()));
      return { json: { zone }, text: `zone ${zone.name}: ${zone.cidrs.join(', ')}` };
    },
  },
  {
    name: 'policy zone list',
    usage: 'govauth policy zone list',
    summary: 'list network zones',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const zones = await (await admin()).listZones(await ctx.db());
      return { json: { zones }, text: zones.length ? table(['ZONE', 'CIDRS'], zones.map((z) => [z.name, z.cidrs.join(', ')])) : 'no network zones' };
    },
  },
  {
    name: 'policy zone remove',
    usage: 'govauth policy zone remove <name>',
    summary: 'remove a network zone',
    options: {},
    positionals: ['name'],
    async run({ positionals }, ctx) {
      await (await admin()).removeZone(await ctx.db(), positionals[0] ?? '', ctx.actor);
      return { json: { removed: positionals[0] }, text: `zone ${positionals[0] ?? ''} removed` };
    },
  },
  {
    name: 'policy explain',
    usage: 'govauth policy explain (--user <email> [--via <client-id>] | --client <client-id>) --resource <uri> --scope <scope> [--at <ISO instant>] [--ip <address>] [--mfa] [--mfa-age <s>] [--binding dpop|mtls|none] [--delegation <depth>] [--version <n>]',
    summary: 'the decision for one scope, the policies that determined it, and what would change it',
    options: {
      user: { type: 'string' }, client: { type: 'string' }, via: { type: 'string' }, resource: { type: 'string' }, scope: { type: 'string' },
      at: { type: 'string' }, ip: { type: 'string' }, mfa: { type: 'boolean' }, 'mfa-age': { type: 'string' }, binding: { type: 'string' }, delegation: { type: 'string' }, version: { type: 'string' },
    },
    positionals: [],
    async run({ values }, ctx) {
      const binding = str(values, 'binding');
      if (binding !== undefined && !['dpop', 'mtls', 'none'].includes(binding)) throw new UsageError('--binding is dpop, mtls or none');
      const ip = str(values, 'ip');
      const { isIP } = await import('node:net');
      if (ip !== undefined && !isIP(ip)) throw new UsageError(`--ip must be an IPv4 or IPv6 address (got ${JSON.stringify(ip.slice(0, 80))})`);
      const { explainDecision } = await import('../../governance/abac/abac-explain.ts');
      const e = await explainDecision(await ctx.db(), {
        user: str(values, 'user'),
        client: str(values, 'client'),
        via: str(values, 'via'),
        resource: required(values, 'resource'),
        scope: required(values, 'scope'),
        at: instant(values, ctx.now()),
        ip,
        mfa: flag(values, 'mfa'),
        mfaAge: int(values, 'mfa-age'),
        binding: binding === undefined ? undefined : binding === 'none' ? 'bearer' : (binding as 'dpop' | 'mtls'),
        delegationDepth: int(values, 'delegation'),
        version: versionArg(str(values, 'version')),
      });
      return { json: { ...e }, text: explanationText(e) };
    },
  },
];
