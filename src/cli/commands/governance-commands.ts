// govauth audit … / review / (user|client) grant-role|revoke-role|roles: proving who could do
// what, and taking access away on time.
import type { AuditFilter } from '../../audit/audit-query.ts';
import type { Checkpoint } from '../../audit/audit-verify.ts';
import type { VerifiedCheckpoint } from '../../audit/audit-checkpoint.ts';
import { loadConfig } from '../../config/load-config.ts';
import { parseDuration, parseInstant, retentionCutoff } from '../../governance/durations.ts';
import { AppError } from '../../errors/app-error.ts';
import type { Principal, RoleGrantView } from '../../governance/role-grants.ts';
import { flag, int, required, str, UsageError, type Command } from '../command.ts';
import { table } from '../table.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const retention = () => import('../../audit/audit-retention.ts');
const access = () => import('../../audit/audit-access.ts');
const accessReport = () => import('../../audit/access-text.ts');
const verify = () => import('../../audit/audit-verify.ts');
const checkpoints = () => import('../../audit/audit-checkpoint.ts');
const auditKeys = () => import('../../keys/audit-key.ts');
const auditQuery = () => import('../../audit/audit-query.ts');
const accessReview = () => import('../../governance/access-review.ts');
const roleGrants = () => import('../../governance/role-grants.ts');

export class ChainBroken extends Error {}

// The filters `audit tail` and `audit export` share, as GET /admin/v1/audit names them.
const FILTER_USAGE = '[--actor <id>] [--action <name|prefix*>] [--client <client_id>] [--resource <audience>] [--subject <id>] [--since <time|7d>] [--until <time>] [--before <seq>] [--after <seq>]';
const FILTER_OPTIONS = {
  actor: { type: 'string' },
  action: { type: 'string' },
  client: { type: 'string' },
  resource: { type: 'string' },
  subject: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  before: { type: 'string' },
  after: { type: 'string' },
} as const;

/** `maxSeq`: audit-query.ts's MAX_SEQ, passed in so that module still loads only when a command runs. */
function auditFilter(values: Parameters<typeof str>[0], now: number, maxSeq: number): AuditFilter {
  const since = str(values, 'since');
  const until = str(values, 'until');
  const seq = (name: 'before' | 'after'): number | undefined => {
    const v = int(values, name);
    if (v !== undefined && (v < 1 || v > maxSeq)) throw new UsageError(`--${name} must be a record's seq, between 1 and ${maxSeq}`);
    return v;
  };
  return {
    since: since === undefined ? undefined : parseInstant(since, now, '--since'),
    until: until === undefined ? undefined : parseInstant(until, now, '--until'),
    actor: str(values, 'actor'),
    action: str(values, 'action'),
    clientId: str(values, 'client'),
    resource: str(values, 'resource'),
    subject: str(values, 'subject'),
    before: seq('before'),
    after: seq('after'),
  };
}

const grantsTable = (grants: RoleGrantView[]): string =>
  table(['ROLE', 'EXPIRES', 'REASON', 'GRANTED'], grants.map((g) => [g.role, g.expires_at ?? 'never', g.reason ?? '', g.granted_at]));

function roleGrantCommands(kind: 'user' | 'client'): Command[] {
  const noun = kind === 'user' ? '<email>' : '<client_id>';
  const principal = (key: string): Principal => (kind === 'user' ? { type: 'user', email: key } : { type: 'client', id: key });
  return [
    {
      name: `${kind} grant-role`,
      usage: `govauth ${kind} grant-role ${noun} <role> [--expires-in <90s|15m|8h|7d|2w>] [--reason <text>] [--replace]`,
      summary: 'grant a role, for a limited time with --expires-in (temporary access that expires by itself); shortening a grant in force needs --replace',
      options: { 'expires-in': { type: 'string' }, reason: { type: 'string' }, replace: { type: 'boolean' } },
      positionals: [kind === 'user' ? 'email' : 'client_id', 'role'],
      async run({ values, positionals }, ctx) {
        const { grantRole, GrantWouldShorten } = await roleGrants();
        const now = ctx.now();
        const expiresIn = str(values, 'expires-in');
        const input = {
          principal: principal(positionals[0] ?? ''),
          role: positionals[1] ?? '',
          expiresAt: expiresIn === undefined ? null : new Date(now + parseDuration(expiresIn, '--expires-in')),
          reason: str(values, 'reason'),
          replace: flag(values, 'replace'),
        };
        const grants = await grantRole(await ctx.db(), input, ctx.actor, now).catch((err: unknown) => {
          if (err instanceof GrantWouldShorten) throw new AppError('conflict', `${err.message}. Run it again with --replace to shorten it.`);
          throw err;
        });
        return { json: { grants }, text: grantsTable(grants) };
      },
    },
    {
      name: `${kind} revoke-role`,
      usage: `govauth ${kind} revoke-role ${noun} <role>`,
      summary: 'remove a role grant now',
      options: {},
      positionals: [kind === 'user' ? 'email' : 'client_id', 'role'],
      async run({ positionals }, ctx) {
        const { removeRoleGrant } = await roleGrants();
        const grants = await removeRoleGrant(await ctx.db(), { principal: principal(positionals[0] ?? ''), role: positionals[1] ?? '' }, ctx.actor);
        return { json: { grants }, text: grantsTable(grants) };
      },
    },
    {
      name: `${kind} roles`,
      usage: `govauth ${kind} roles ${noun}`,
      summary: 'show role grants with their expiry',
      options: {},
      positionals: [kind === 'user' ? 'email' : 'client_id'],
      async run({ positionals }, ctx) {
        const { listRoleGrants } = await roleGrants();
        const { id, label, grants } = await listRoleGrants(await ctx.db(), principal(positionals[0] ?? ''));
        return { json: { id, grants }, text: `${label} (${id})\n${grantsTable(grants)}` };
      },
    },
  ];
}

export const governanceCommands: Command[] = [
  ...roleGrantCommands('user'),
  ...roleGrantCommands('client'),
  {
    name: 'audit verify',
    usage: 'govauth audit verify [--checkpoint <seq>:<hash> | <checkpoint JWS>] [--jwks <file>]',
    summary: 'check the audit hash chain; exits non-zero naming the first broken record. Keep the printed head (or a signed `audit checkpoint`) outside the database and pass it back as --checkpoint to detect a rewritten chain; --jwks pins the audit public keys a JWS must be signed with',
    options: { checkpoint: { type: 'string' }, jwks: { type: 'string' } },
    positionals: [],
    async run({ values }, ctx) {
      const [{ verifyAuditChain }, { CheckpointRefused, looksLikeJws, readJwksFile, verifyCheckpointJws }, { auditPublicKeys }] = await Promise.all([verify(), checkpoints(), auditKeys()]);
      const raw = str(values, 'checkpoint');
      const jwksFile = str(values, 'jwks');
      if (jwksFile !== undefined && (raw === undefined || !looksLikeJws(raw))) throw new UsageError('--jwks applies to a signed checkpoint: --checkpoint <JWS from govauth audit checkpoint>');
      const db = await ctx.db();
      let checkpoint: Checkpoint | undefined;
      let signed: VerifiedCheckpoint | undefined;
      if (raw !== undefined && looksLikeJws(raw)) {
        try {
          signed = await verifyCheckpointJws(raw, jwksFile === undefined ? await auditPublicKeys(db) : readJwksFile(jwksFile));
        } catch (err) {
          if (err instanceof CheckpointRefused) throw new ChainBroken(`checkpoint REFUSED: ${err.message}`);
          throw err;
        }
        checkpoint = signed;
      } else if (raw !== undefined) {
        const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(raw.trim());
        if (!m) throw new UsageError('--checkpoint must be <seq>:<hash> as printed by `govauth audit verify` (e.g. 1042:9f86d0…, 64 hex digits), or a JWS printed by `govauth audit checkpoint`');
        checkpoint = { seq: Number(m[1]), hash: m[2] ?? '' };
      }
      const result = await verifyAuditChain(db, undefined, checkpoint);
      if (!result.ok) throw new ChainBroken(`audit chain BROKEN at record ${result.brokenAt}: ${result.problem} (${result.records} records verified before it)`);
      const head = result.last !== undefined ? `${result.last}:${result.lastHash ?? ''}` : null;
      const signedBy = signed ? ` (signed by audit key ${signed.kid} at ${signed.at.toISOString()})` : '';
      return {
        json: {
          ok: true, records: result.records, first: result.first ?? null, last: result.last ?? null, head, checkpoint: checkpoint ? 'matches' : null,
          ...(signed && { signed_checkpoint: { seq: signed.seq, hash: signed.hash, kid: signed.kid, iss: signed.iss, at: signed.at.toISOString() } }),
        },
        text:
          `audit chain intact: ${result.records} records${result.records ? ` (${result.first}–${result.last})` : ''}` +
          (checkpoint ? `; checkpoint ${checkpoint.seq} matches${signedBy}` : '') +
          (head ? `\nhead (keep it outside the database; pass it back with --checkpoint): ${head}` : ''),
      };
    },
  },
  {
    name: 'audit checkpoint',
    usage: 'govauth audit checkpoint',
    summary: 'verify the chain, then print a JWS over its head (seq, hash, time) signed with the audit key; keep it outside the database, check it later with audit verify --checkpoint <jws>',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const [{ verifyAuditChain }, { checkpointIssuer, takeCheckpoint }] = await Promise.all([verify(), checkpoints()]);
      const db = await ctx.db();
      // Signing the head of a chain already broken would vouch for the break.
      const result = await verifyAuditChain(db);
      if (!result.ok) throw new ChainBroken(`audit chain BROKEN at record ${result.brokenAt}: ${result.problem}; no checkpoint taken`);
      const cp = await takeCheckpoint(db, await ctx.master(), { issuer: checkpointIssuer(loadConfig(ctx.env)), by: ctx.actor, now: ctx.now() });
      if (!cp) throw new Error('checkpoint not taken');
      return { json: { checkpoint: cp.jws, seq: cp.seq, hash: cp.hash, kid: cp.kid, at: cp.at.toISOString() }, text: cp.jws };
    },
  },
  {
    name: 'audit keys',
    usage: 'govauth audit keys',
    summary: 'print the audit public keys (JWKS, as served at /.well-known/govauth-audit-keys) that verify checkpoints; creates the key on first use',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const { auditPublicKeys, currentAuditKey } = await auditKeys();
      const db = await ctx.db();
      await currentAuditKey(db, await ctx.master(), ctx.now());
      const keys = await auditPublicKeys(db);
      return { json: { keys }, text: JSON.stringify({ keys }, null, 2) };
    },
  },
  {
    name: 'audit rotate-key',
    usage: 'govauth audit rotate-key',
    summary: 'a new audit key signs checkpoints from now; earlier keys stay published so their checkpoints keep verifying (re-pin the JWKS)',
    options: {},
    positionals: [],
    async run(_input, ctx) {
      const { rotateAuditKey } = await auditKeys();
      const kid = await rotateAuditKey(await ctx.db(), await ctx.master(), ctx.actor, ctx.now());
      return { json: { kid }, text: `audit key ${kid} signs checkpoints from now; publish and pin the new key set (govauth audit keys)` };
    },
  },
  {
    name: 'audit access',
    usage: 'govauth audit access --resource <audience> --scope <scope> [--at <time|7d>]',
    summary: 'who could access a resource with a scope at a time (default now), and through which role grant; replayed from the audit trail',
    options: { resource: { type: 'string' }, scope: { type: 'string' }, at: { type: 'string' } },
    positionals: [],
    async run({ values }, ctx) {
      const [{ accessAt }, { accessText }] = await Promise.all([access(), accessReport()]);
      const when = str(values, 'at');
      const now = ctx.now();
      const report = await accessAt(await ctx.db(), { resource: required(values, 'resource'), scope: required(values, 'scope'), at: when === undefined ? new Date(now) : parseInstant(when, now, '--at') });
      return { json: { ...report }, text: accessText(report) };
    },
  },
  {
    name: 'audit export',
    usage: `govauth audit export ${FILTER_USAGE}`,
    summary: 'write the matching audit records as JSON Lines (one event per line, in chain order) for a SIEM',
    options: FILTER_OPTIONS,
    positionals: [],
    streams: true,
    async run({ values }, ctx) {
      const { exportAuditEvents, MAX_SEQ } = await auditQuery();
      const count = await exportAuditEvents(await ctx.db(), auditFilter(values, ctx.now(), MAX_SEQ), (event) => ctx.out(`${JSON.stringify(event)}\n`));
      return { json: { exported: count }, text: '' };
    },
  },
  {
    name: 'audit tail',
    usage: `govauth audit tail ${FILTER_USAGE} [--limit N]`,
    summary: 'show the most recent matching audit records, oldest first; the next page back is --before <the first SEQ shown>, the next page forward --after <the last SEQ shown>',
    options: { ...FILTER_OPTIONS, limit: { type: 'string' } },
    positionals: [],
    async run({ values }, ctx) {
      const { MAX_SEQ, MAX_TAIL, tailAuditEvents } = await auditQuery();
      const limit = int(values, 'limit') ?? 20;
      if (limit < 1 || limit > MAX_TAIL) throw new UsageError(`--limit must be between 1 and ${MAX_TAIL}`);
      const events = await tailAuditEvents(await ctx.db(), auditFilter(values, ctx.now(), MAX_SEQ), limit);
      return {
        json: { events },
        text: table(
          ['SEQ', 'AT', 'ACTION', 'OUTCOME', 'ACTOR', 'SUBJECT', 'CLIENT', 'RESOURCE', 'DETAIL'],
          events.map((e) => [String(e.seq), e.at, e.action, e.outcome, `${e.actor_type}:${e.actor ?? '-'}`, e.subject ?? '-', e.client_id ?? '-', e.resource ?? '-', JSON.stringify(e.detail).slice(0, 80)]),
        ),
      };
    },
  },
  {
    name: 'audit prune',
    usage: 'govauth audit prune --older-than <duration, e.g. 400d>',
    summary: 'delete old audit records (never younger than 30 days, or GOVAUTH_AUDIT_RETENTION_DAYS if more); the chain stays verifiable from a recorded anchor',
    options: { 'older-than': { type: 'string' } },
    positionals: [],
    async run({ values }, ctx) {
      const { pruneAuditTrail } = await retention();
      const now = ctx.now();
      const before = retentionCutoff(required(values, 'older-than'), now, '--older-than');
      const db = await ctx.db();
      const removed = await pruneAuditTrail(db, before, ctx.actor, { floorDays: loadConfig(ctx.env).auditPruneFloorDays, now });
      return { json: { removed, before: before.toISOString() }, text: `removed ${removed} audit records older than ${before.toISOString()}` };
    },
  },
  {
    name: 'review',
    usage: 'govauth review [--unused-days N] [--json]',
    summary: 'access review: roles, effective scopes, last use, expiring grants, least-privilege findings',
    options: { 'unused-days': { type: 'string' }, 'findings-only': { type: 'boolean' } },
    positionals: [],
    async run({ values }, ctx) {
      const { reviewAccess } = await accessReview();
      const unusedDays = int(values, 'unused-days') ?? 30;
      if (unusedDays < 1 || unusedDays > 3650) throw new UsageError('--unused-days must be between 1 and 3650');
      const review = await reviewAccess(await ctx.db(), { unusedDays, now: ctx.now() });
      const shown = flag(values, 'findings-only') ? review.principals.filter((p) => p.findings.length) : review.principals;
      const lines = shown.flatMap((p) => [
        `${p.type} ${p.name} (${p.id})${p.disabled ? ' DISABLED' : ''}${p.type === 'user' ? (p.mfa_enrolled ? ' · MFA' : ' · no MFA') : ''}${p.factors ? ` (TOTP ${p.factors.totp ? 'on' : 'off'}, passkeys ${p.factors.passkeys}, recovery codes ${p.factors.recovery_codes_left})` : ''}${p.admin_access ? ' · admin API' : ''}`,
        `  roles:  ${p.roles.map((r) => (r.expires_at ? `${r.role} (until ${r.expires_at})` : r.role)).join(', ') || '(none)'}`,
        ...p.scope_grants.map((g) => `  scope grant ${g.scope} on ${g.resource} (until ${g.expires_at})`),
        ...(p.auth_method ? [`  auth:   ${p.auth_method}${p.secret_expires_at ? ` (secret expires ${p.secret_expires_at})` : ''}${p.jwks_uri ? ` (keys from ${p.jwks_uri})` : ''} · tokens: ${p.requires_pop ? 'bound only' : 'bearer allowed'}`] : []),
        ...p.scopes.map((s) => `  scope   ${s.scope.padEnd(28)} ${s.sensitivity.padEnd(6)} last used ${s.last_used_at ?? 'never'}`),
        ...p.findings.map((f) => `  FINDING ${f.kind}: ${f.message}`),
        '',
      ]);
      for (const c of review.self_registered) {
        lines.push(`self-registered ${c.name} (${c.client_id})${c.disabled ? ' DISABLED' : ''} · ${c.kind === 'metadata_document' ? `domain ${c.host ?? '?'}` : 'RFC 7591'} · ${c.trust}${c.vetted ? ' (vetted)' : ''} · last used ${c.last_used_at ?? 'never'}`);
        lines.push(...c.scopes.map((s) => `  scope   ${s.scope.padEnd(28)} ${s.sensitivity.padEnd(6)} last used ${s.last_used_at}`), '');
      }
      lines.push(`${review.summary.principals} principals, ${review.summary.findings} findings (unused = not used in ${unusedDays} days)`);
      return { json: { ...review }, text: lines.join('\n') };
    },
  },
];
