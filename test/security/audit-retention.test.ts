// The audit trail cannot be wiped (issue 15, hole 1). A govauth.admin token once pruned every
// record with {"older_than":"1s"} (the record of the client it had just created included) and
// verify still said ok. Now: no prune, from the admin API or the CLI, removes a record younger
// than the operator's floor (30 days, or GOVAUTH_AUDIT_RETENTION_DAYS if more); a refused prune
// is a 400 naming the floor and is itself recorded; and a chain whose head was deleted with SQL
// (the Meta anchor moved to match) is a break, because no recorded pruning names that anchor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditEvents } from '../../src/db/audit-log.ts';
import type { AuditEventView } from '../../src/audit/audit-query.ts';
import { runCli } from '../../src/cli/main.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { callAdmin, createAdminBots, tokenFor, type Answer } from '../helpers/admin-http.ts';
import type { ClientCreds } from '../helpers/oauth.ts';
import { createTestDatabase } from '../helpers/test-database.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const DAY = 86_400_000;
const OLD_RECORDS = 5;

type Body = Partial<{ events: AuditEventView[]; removed: number; ok: boolean; first: number | null; broken_at: number; problem: string; error: string; error_description: string; client_id: string }>;

let t: TestServer;
let adminBot: ClientCreds;
let adminToken: string;
const admin = (method: string, path: string, body?: unknown): Promise<Answer<Body>> => callAdmin<Body>(t.url, adminToken, method, path, body);
const rows = async () => {
  await t.server.audit.flush();
  return t.server.db.prisma.auditEvent.findMany({ orderBy: { seq: 'asc' } });
};

beforeAll(async () => {
  // The chain begins with records written 40 days ago, through the chain's own append (which
  // takes a record's time as given): what a server running for weeks has at its head.
  const db = await createTestDatabase();
  const target = loadConfig({ DATABASE_URL: db.url, GOVAUTH_DATA_DIR: db.dataDir }).database;
  await migrate(target);
  const early = await openDatabase(target, { now: Date.now });
  const at = new Date(Date.now() - 40 * DAY);
  await early.prisma.$transaction((tx) => appendAuditEvents(early, tx, Array.from({ length: OLD_RECORDS }, (_, i) => ({ action: 'test.old', actorType: 'system' as const, detail: { i }, at }))));
  await early.close();

  t = await startTestServer({ db });
  ({ adminBot } = await createAdminBots(t));
  adminToken = await tokenFor(t.url, adminBot);
});
afterAll(async () => {
  await t?.stop();
});

describe('pruning never goes below the retention floor', () => {
  it('refuses older_than=1s through the admin API with a 400 naming the floor, removes nothing, and records the refusal', async () => {
    const created = await admin('POST', '/clients', { name: 'made-just-now', grants: ['client_credentials'] });
    expect(created.status).toBe(201);
    const before = await rows();

    const r = await admin('POST', '/audit/prune', { older_than: '1s' });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_request');
    expect(r.body.error_description).toMatch(/retention floor is 30 days/);

    const after = await rows();
    expect(after.slice(0, before.length).map((e) => e.hash)).toEqual(before.map((e) => e.hash));
    expect(after.some((e) => e.action === 'admin.client.create' && e.subject === created.body.client_id)).toBe(true);
    const refused = after.filter((e) => e.action === 'audit.prune_refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ actorType: 'admin', actor: adminBot.client_id, outcome: 'denied' });
    expect(JSON.parse(refused[0]?.detail ?? '{}')).toMatchObject({ floor_days: 30 });
    expect((await admin('GET', '/audit/verify')).body).toMatchObject({ ok: true, first: 1 });
  });

  it('refuses 29d just as well: the floor is 30 days', async () => {
    const r = await admin('POST', '/audit/prune', { older_than: '29d' });
    expect(r.status).toBe(400);
    expect(r.body.error_description).toMatch(/30 days/);
  });

  it('refuses the CLI too (exit 1, the floor named), and records that refusal', async () => {
    const count = (await rows()).length;
    const r = await t.cli('audit', 'prune', '--older-than', '1s');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/retention floor is 30 days/);
    const after = await rows();
    expect(after).toHaveLength(count + 1);
    expect(after.at(-1)).toMatchObject({ action: 'audit.prune_refused', actorType: 'cli', outcome: 'denied' });
  });

  it('lets GOVAUTH_AUDIT_RETENTION_DAYS raise the floor, never lower it', async () => {
    const r = await runCli(['audit', 'prune', '--older-than', '35d'], { ...t.env, GOVAUTH_AUDIT_RETENTION_DAYS: '90' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/retention floor is 90 days/);
    const low = await runCli(['audit', 'prune', '--older-than', '35d'], { ...t.env, GOVAUTH_AUDIT_RETENTION_DAYS: '7' });
    expect(low.code).toBe(78);
    expect(low.stderr).toMatch(/GOVAUTH_AUDIT_RETENTION_DAYS="7": must be 0 \(keep records forever\) or at least 30/);
  });

  it('prunes what is older than the floor: exactly the old head goes, and verify stays ok from the recorded anchor', async () => {
    const before = await rows();
    const r = await admin('POST', '/audit/prune', { older_than: '35d' });
    expect(r.status).toBe(200);
    expect(r.body.removed).toBe(OLD_RECORDS);
    const after = await rows();
    expect(after[0]?.seq).toBe(OLD_RECORDS + 1);
    expect(after.slice(0, before.length - OLD_RECORDS).map((e) => e.hash)).toEqual(before.slice(OLD_RECORDS).map((e) => e.hash));
    expect(after.at(-1)).toMatchObject({ action: 'audit.pruned', actor: adminBot.client_id });
    expect(JSON.parse(after.at(-1)?.detail ?? '{}')).toMatchObject({ removed: OLD_RECORDS, anchor_seq: OLD_RECORDS, anchor_hash: before[OLD_RECORDS - 1]?.hash });
    expect((await admin('GET', '/audit/verify')).body).toMatchObject({ ok: true, first: OLD_RECORDS + 1 });
    const cli = await t.cli('audit', 'verify');
    expect(cli.code, cli.stderr).toBe(0);
  });
});

describe('verify proves where the chain starts', () => {
  it('reads the oldest records deleted with SQL as a break, even with the Meta anchor moved to match', async () => {
    const before = await rows();
    const gone = before.slice(0, 3);
    const newAnchor = gone.at(-1);
    const db = t.server.db.prisma;
    const anchorBefore = await db.meta.findUniqueOrThrow({ where: { key: 'audit_anchor' } });
    await db.auditEvent.deleteMany({ where: { seq: { lte: newAnchor?.seq ?? 0 } } });
    await db.meta.update({ where: { key: 'audit_anchor' }, data: { value: JSON.stringify({ seq: newAnchor?.seq, hash: newAnchor?.hash }) } });

    const api = await admin('GET', '/audit/verify');
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ ok: false, broken_at: newAnchor?.seq });
    expect(api.body.problem).toMatch(/no audit\.pruned record names that anchor/);
    const cli = await t.cli('audit', 'verify');
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/BROKEN/);

    // Left as it was (Meta untouched), the same deletion is a missing record.
    await db.meta.update({ where: { key: 'audit_anchor' }, data: { value: anchorBefore.value } });
    expect((await admin('GET', '/audit/verify')).body).toMatchObject({ ok: false, problem: expect.stringMatching(/is missing/) as string });

    // Put back, the chain verifies again: the checks judge the data, not the history of the test.
    await db.auditEvent.createMany({ data: gone });
    expect((await admin('GET', '/audit/verify')).body).toMatchObject({ ok: true });
  });

  it('reads a malformed Meta anchor as a break, not as genesis', async () => {
    const db = t.server.db.prisma;
    const anchor = await db.meta.findUniqueOrThrow({ where: { key: 'audit_anchor' } });
    await db.meta.update({ where: { key: 'audit_anchor' }, data: { value: 'null' } });
    expect((await admin('GET', '/audit/verify')).body).toMatchObject({ ok: false, problem: expect.stringMatching(/anchor in Meta is malformed/) as string });
    await db.meta.update({ where: { key: 'audit_anchor' }, data: { value: anchor.value } });
    expect((await admin('GET', '/audit/verify')).body).toMatchObject({ ok: true });
  });
});
