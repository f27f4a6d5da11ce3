// The tamper-evident audit trail: every security decision is recorded with the right fields
// and no secrets; the hash chain detects edits, deletions and reordering; export and tail work;
// retention pruning keeps verification working; under concurrent load every issued token has
// exactly one record and the chain stays intact.
import type * as oidc from 'openid-client';
import * as openid from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashRecord, type AuditRecord } from '../../src/db/audit-record.ts';
import { verifyAuditChain } from '../../src/audit/audit-verify.ts';
import { basic, decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { API, PASSWORD, createUser, createWebApp, discover, createResourceServer } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let bot: ClientCreds;
let rs: ClientCreds;
let config: oidc.Configuration;
let app: { client_id: string; client_secret: string | null };

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  rs = await createResourceServer(t);
  await createUser(t, 'rita@example.com', ['data-scientist']);
  app = await createWebApp(t);
  await t.server.policy.sync();
  config = await discover(t, app);
});
afterAll(() => t?.stop());

async function events(action: string): Promise<(AuditRecord & { d: Record<string, unknown> })[]> {
  await t.server.audit.flush();
  const rows = await t.server.db.prisma.auditEvent.findMany({ where: { action }, orderBy: { seq: 'asc' } });
  return rows.map((r) => ({ ...r, d: JSON.parse(r.detail) as Record<string, unknown> }));
}

const post = (path: string, creds: ClientCreds, body: Record<string, string>) =>
  fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(creds) }, body: new URLSearchParams(body) });

describe('what is recorded', () => {
  it('records a token issuance before the response is sent: client, subject, resource, scopes, jti, lifetime', async () => {
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: bot });
    const jti = decodeJwt(String(res.body.access_token)).payload.jti;
    // No flush: the record must already be committed when the response arrives.
    const rows = await t.server.db.prisma.auditEvent.findMany({ where: { action: 'token.issued' } });
    const rec = rows.map((r) => ({ ...r, d: JSON.parse(r.detail) as Record<string, unknown> })).find((r) => r.d.jti === jti);
    expect(rec).toMatchObject({ actorType: 'client', actor: bot.client_id, clientId: bot.client_id, subject: bot.client_id, outcome: 'success' });
    expect(rec?.d).toMatchObject({ grant_type: 'client_credentials', aud: API, scopes: ['ai.prediction.run', 'ai.training.analyze', 'ai.training.read'], lifetime: 300 });
    expect(rec?.requestId).toBe(res.headers.get('x-request-id'));
    expect(rec?.ip).toBeTruthy();
  });

  it('records refusals, refresh rotation and reuse detection', async () => {
    await tokenRequest(t.url, { grant_type: 'client_credentials', scope: 'ai.deploy.manage' }, { basic: bot });
    expect((await events('token.refused')).at(-1)?.d).toMatchObject({ error: 'invalid_scope' });
    const tokens = await headlessSignIn(config, 'rita@example.com', 'openid offline_access ai.training.read', { extra: { prompt: 'consent' } });
    await openid.refreshTokenGrant(config, tokens.refresh_token!);
    await openid.refreshTokenGrant(config, tokens.refresh_token!).catch(() => undefined);
    const refreshed = (await events('token.refreshed')).at(-1);
    expect(refreshed?.d).toMatchObject({ grant_type: 'refresh_token', refresh_token: 'rotated', scopes: ['ai.training.read'] });
    expect(String(refreshed?.subject)).toMatch(/^usr_/);
    const reuse = (await events('refresh.reuse_detected')).at(-1);
    expect(reuse).toMatchObject({ outcome: 'failure', clientId: app.client_id });
    expect((await events('revocation.grant')).at(-1)).toMatchObject({ actorType: 'system', subject: String(decodeJwt(tokens.access_token).payload.grant_id) });
  });

  it('records sign-in success and failure, consent, and introspection with its result and reason', async () => {
    await headlessSignIn(config, 'rita@example.com', 'openid ai.training.read', { password: 'wrong wrong wrong' }).catch(() => undefined);
    const failed = (await events('login.failed')).at(-1);
    expect(failed).toMatchObject({ outcome: 'failure', actor: expect.stringMatching(/^usr_/) as string, clientId: app.client_id });
    expect((await events('login.succeeded')).length).toBeGreaterThan(0);
    expect((await events('consent.granted')).at(-1)?.d).toMatchObject({ scopes: [{ resource: API, scopes: ['ai.training.read'] }] });
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: bot });
    const token = String(res.body.access_token);
    await post('/token/introspection', rs, { token });
    await post('/token/revocation', bot, { token });
    await post('/token/introspection', rs, { token });
    const introspections = await events('token.introspected');
    expect(introspections.at(-2)).toMatchObject({ actor: rs.client_id, outcome: 'success' });
    expect(introspections.at(-1)).toMatchObject({ outcome: 'denied' });
    expect(introspections.at(-1)?.d).toMatchObject({ active: false, reason: 'revoked_token', jti: decodeJwt(token).payload.jti });
    expect((await events('revocation.token')).at(-1)).toMatchObject({ actorType: 'client', actor: bot.client_id });
  });

  it('records administrative changes with the operator, before and after', async () => {
    await t.cliJson('role', 'update', 'auditor', '--scopes', 'ai.usage.log.read,ai.training.read');
    const rec = (await events('admin.role.update')).at(-1);
    expect(rec).toMatchObject({ actorType: 'cli', subject: 'auditor' });
    expect(rec?.actor).toBeTruthy();
    expect(rec?.d).toMatchObject({ before: { scopes: ['ai.usage.log.read'] }, after: { scopes: ['ai.training.read', 'ai.usage.log.read'] } });
    Object.assign(bot, await t.cliJson<ClientCreds>('client', 'rotate-secret', bot.client_id));
    await t.server.policy.sync();
    expect((await events('admin.client.rotate_secret')).at(-1)?.d).toMatchObject({ secret_rotated: true });
  });

  it('never records secrets: no client secret, password, or token', async () => {
    const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: bot });
    expect(res.status).toBe(200);
    await t.server.audit.flush();
    const everything = (await t.server.db.prisma.auditEvent.findMany()).map((r) => JSON.stringify(r)).join('\n');
    const secrets = { bot: bot.client_secret, rs: rs.client_secret, password: PASSWORD, token: String(res.body.access_token), signature: String(res.body.access_token).split('.')[2] };
    for (const [name, secret] of Object.entries(secrets)) {
      expect(everything.includes(secret ?? '-'), `the ${name} secret reached the audit trail`).toBe(false);
    }
  });
});

describe('tamper evidence', () => {
  const tamper = async (sql: string, ...args: unknown[]): Promise<void> => {
    await t.server.audit.flush();
    await t.server.db.prisma.$executeRawUnsafe(sql, ...args);
  };

  it('verifies an intact chain with the CLI (exit 0)', async () => {
    const r = await t.cli('audit', 'verify', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true });
  });

  it('names the first broken record when one was edited, deleted or reordered (non-zero exit)', async () => {
    await t.server.audit.flush();
    const seqs = (await t.server.db.prisma.auditEvent.findMany({ select: { seq: true }, orderBy: { seq: 'asc' } })).map((r) => r.seq);
    const target = seqs[5] ?? 1;
    const original = await t.server.db.prisma.auditEvent.findUniqueOrThrow({ where: { seq: target } });

    // Edit: change the outcome of one record.
    await t.server.db.prisma.auditEvent.update({ where: { seq: target }, data: { outcome: 'failure' } });
    let r = await t.cli('audit', 'verify');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`BROKEN at record ${target}: record ${target} was altered`));
    await t.server.db.prisma.auditEvent.update({ where: { seq: target }, data: { outcome: original.outcome } });
    expect((await t.cli('audit', 'verify')).code).toBe(0);

    // Reorder: swap the contents of two records (hashes included).
    const a = await t.server.db.prisma.auditEvent.findUniqueOrThrow({ where: { seq: target } });
    const b = await t.server.db.prisma.auditEvent.findUniqueOrThrow({ where: { seq: target + 1 } });
    const { seq: _a, ...aData } = a;
    const { seq: _b, ...bData } = b;
    await t.server.db.prisma.auditEvent.update({ where: { seq: target }, data: bData });
    await t.server.db.prisma.auditEvent.update({ where: { seq: target + 1 }, data: aData });
    r = await t.cli('audit', 'verify');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`BROKEN at record ${target}`));
    await t.server.db.prisma.auditEvent.update({ where: { seq: target }, data: aData });
    await t.server.db.prisma.auditEvent.update({ where: { seq: target + 1 }, data: bData });

    // Delete: remove one record.
    await tamper('DELETE FROM "AuditEvent" WHERE "seq" = $1'.replace('$1', String(target)));
    r = await t.cli('audit', 'verify');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`record ${target} is missing`));
    await t.server.db.prisma.auditEvent.create({ data: original });
    expect((await t.cli('audit', 'verify')).code).toBe(0);
  });
});

describe('checkpoints kept outside the database', () => {
  it('detects a chain rewritten with recomputed hashes, which the chain alone cannot', async () => {
    await t.server.audit.flush();
    const head = (await t.cliJson<{ head: string }>('audit', 'verify')).head;
    expect(head).toMatch(/^\d+:[0-9a-f]{64}$/);
    const [seq] = head.split(':').map(Number);
    expect((await t.cli('audit', 'verify', '--checkpoint', head)).code).toBe(0);

    // Someone with write access edits a record and recomputes every hash from there on.
    const rows = await t.server.db.prisma.auditEvent.findMany({ where: { seq: { gte: (seq ?? 0) - 3 } }, orderBy: { seq: 'asc' } });
    const originals = rows.map((r) => ({ ...r }));
    let prev = rows[0]?.prevHash ?? '';
    for (const [i, r] of rows.entries()) {
      const edited = { ...r, prevHash: prev, outcome: i === 0 ? 'failure' : r.outcome };
      edited.hash = hashRecord(edited);
      prev = edited.hash;
      await t.server.db.prisma.auditEvent.update({ where: { seq: r.seq }, data: { outcome: edited.outcome, prevHash: edited.prevHash, hash: edited.hash } });
    }
    expect((await t.cli('audit', 'verify')).code).toBe(0); // the rewrite is self-consistent
    const r = await t.cli('audit', 'verify', '--checkpoint', head);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`BROKEN at record ${seq}: record ${seq} does not match the checkpoint \\(the chain was rewritten\\)`));
    for (const o of originals) await t.server.db.prisma.auditEvent.update({ where: { seq: o.seq }, data: { outcome: o.outcome, prevHash: o.prevHash, hash: o.hash } });
    expect((await t.cli('audit', 'verify', '--checkpoint', head)).code).toBe(0);
  });

  it('refuses a malformed checkpoint with a usage message', async () => {
    const r = await t.cli('audit', 'verify', '--checkpoint', 'latest');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--checkpoint must be <seq>:<hash>/);
  });
});

describe('reading the trail', () => {
  it('exports JSON Lines (one event per line) within a time window, and tails by actor and action', async () => {
    await t.server.audit.flush();
    const since = new Date(Date.now() - 3600_000).toISOString();
    const r = await t.cli('audit', 'export', '--since', since);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    const first = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(Object.keys(first)).toEqual(expect.arrayContaining(['seq', 'at', 'action', 'actor', 'outcome', 'detail', 'hash', 'prev_hash']));
    const none = await t.cli('audit', 'export', '--until', '2000-01-01T00:00:00Z');
    expect(none.stdout).toBe('');
    const tail = await t.cliJson<{ events: { action: string; actor: string }[] }>('audit', 'tail', '--actor', bot.client_id, '--action', 'token.*', '--limit', '5');
    expect(tail.events.length).toBeGreaterThan(0);
    expect(tail.events.every((e) => e.actor === bot.client_id && e.action.startsWith('token.'))).toBe(true);
    const human = await t.cli('audit', 'tail', '--limit', '3');
    expect(human.stdout).toMatch(/SEQ\s+AT\s+ACTION/);
  });
});

describe('retention', () => {
  it('prunes old records and the chain still verifies from its anchor', async () => {
    await t.server.audit.flush();
    const before = await t.server.db.prisma.auditEvent.count();
    // Seen from 31 days on, everything so far is older than the 30-day floor.
    const later = Date.now() + 31 * 86_400_000;
    const cutoff = new Date(later - 30 * 86_400_000);
    const { pruneAuditTrail } = await import('../../src/audit/audit-retention.ts');
    const removed = await pruneAuditTrail(t.server.db, cutoff, { actorType: 'cli', actor: 'test' }, { floorDays: 30, now: later });
    expect(removed).toBe(before);
    await tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: bot });
    await t.server.audit.flush();
    expect(await verifyAuditChain(t.server.db)).toMatchObject({ ok: true });
    const pruned = (await events('audit.pruned')).at(-1);
    expect(pruned?.d).toMatchObject({ removed: before });
    // A pruned record cannot be slipped back in.
    const seq = Number(pruned?.d.anchor_seq);
    await t.server.db.prisma.auditEvent.create({
      data: { seq, at: new Date(0), action: 'forged', actorType: 'system', outcome: 'success', detail: '{}', prevHash: 'x', hash: 'y' },
    });
    expect((await t.cli('audit', 'verify')).code).toBe(3);
    await t.server.db.prisma.auditEvent.delete({ where: { seq } });
  });
});

describe('group commit', () => {
  it('writes records that arrive during a commit in one batch, and resolves each only once durable', async () => {
    const { createAuditWriter } = await import('../../src/audit/audit-writer.ts');
    const { silentLogger } = await import('../../src/log/logger.ts');
    const { createRawSql } = await import('../../src/db/raw-sql.ts');
    const sql = createRawSql({ kind: t.server.db.kind, url: t.server.db.url });
    const writer = createAuditWriter(sql, silentLogger, { now: Date.now });
    await Promise.all(Array.from({ length: 50 }, (_, i) => writer.record({ action: 'test.batch', actorType: 'system', detail: { i } })));
    expect(writer.stats.records).toBe(50);
    expect(writer.stats.batches).toBeLessThanOrEqual(2); // the first alone, the other 49 together
    expect(await t.server.db.prisma.auditEvent.count({ where: { action: 'test.batch' } })).toBe(50);
    await writer.close();
    await sql.close();
    expect(await verifyAuditChain(t.server.db)).toMatchObject({ ok: true });
  });
});

describe('under concurrent load', () => {
  it('has exactly one record per issued token, and an intact chain', async () => {
    await t.cliJson('client', 'update', bot.client_id, '--roles', 'data-scientist');
    await t.server.policy.sync();
    const results = await Promise.all(Array.from({ length: 120 }, () => tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: bot })));
    const jtis = results.filter((r) => r.status === 200).map((r) => String(decodeJwt(String(r.body.access_token)).payload.jti));
    expect(jtis).toHaveLength(120);
    const recorded = (await events('token.issued')).map((r) => String(r.d.jti));
    for (const jti of jtis) expect(recorded.filter((x) => x === jti)).toHaveLength(1);
    expect(await verifyAuditChain(t.server.db)).toMatchObject({ ok: true });
  });
});
