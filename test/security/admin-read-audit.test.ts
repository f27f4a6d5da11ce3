// Reads of personal data through the admin API are audited (issue 15, item 9): listing or showing
// people, reading the audit trail and the access review each leave one record naming who read
// what with the filter used, one per request however many rows it returned; reads of nothing
// personal (the scope catalogue) leave none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import type { ClientCreds } from '../helpers/oauth.ts';
import { createUser } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let auditorBot: ClientCreds;
let token: string;

const PEOPLE = 12;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  ({ auditorBot } = await createAdminBots(t));
  token = await tokenFor(t.url, auditorBot);
  for (let i = 0; i < PEOPLE; i++) await createUser(t, `person${i}@example.com`, ['data-scientist']);
});
afterAll(() => t?.stop());

/** The records appended while `read` ran. */
async function recordedDuring(read: () => Promise<unknown>): Promise<{ action: string; actorType: string; actor: string | null; subject: string | null; requestId: string | null; detail: Record<string, unknown> }[]> {
  await t.server.audit.flush();
  const last = (await t.server.db.prisma.auditEvent.findFirst({ orderBy: { seq: 'desc' } }))?.seq ?? 0;
  await read();
  await t.server.audit.flush();
  const rows = await t.server.db.prisma.auditEvent.findMany({ where: { seq: { gt: last } }, orderBy: { seq: 'asc' } });
  return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
}

const get = <B>(path: string) => callAdmin<B>(t.url, token, 'GET', path);

describe('admin API reads of personal data', () => {
  it('records one admin_api.read per listing of people, naming the reader and how many people it returned', async () => {
    let listed = 0;
    const records = await recordedDuring(async () => {
      const r = await get<{ users: unknown[] }>('/users');
      expect(r.status).toBe(200);
      listed = r.body.users.length;
    });
    expect(listed).toBeGreaterThanOrEqual(PEOPLE);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ action: 'admin_api.read', actorType: 'admin', actor: auditorBot.client_id, subject: 'users', detail: { operation: 'listUsers', returned: listed } });
    expect(records[0]?.requestId).toBeTruthy();
  });

  it('records which person was shown, by id', async () => {
    let id = '';
    const records = await recordedDuring(async () => {
      const r = await get<{ user: { id: string } }>(`/users/${encodeURIComponent('person3@example.com')}`);
      expect(r.status).toBe(200);
      id = r.body.user.id;
    });
    expect(records).toEqual([expect.objectContaining({ action: 'admin_api.read', actor: auditorBot.client_id, subject: id, detail: { operation: 'getUser', returned: 1, filter: {} } })]);
  });

  it("records a read of a person's role grants, by id", async () => {
    let id = '';
    const records = await recordedDuring(async () => {
      const r = await get<{ id: string; grants: unknown[] }>(`/users/${encodeURIComponent('person3@example.com')}/roles`);
      expect(r.status).toBe(200);
      id = r.body.id;
    });
    expect(records).toEqual([expect.objectContaining({ action: 'admin_api.read', actor: auditorBot.client_id, subject: id, detail: expect.objectContaining({ operation: 'listUserRoleGrants' }) as unknown })]);
  });

  it('records a read of the audit trail with its filter, once however many records it returned', async () => {
    const records = await recordedDuring(async () => {
      const r = await get<{ events: unknown[] }>('/audit?action=admin.*&limit=500');
      expect(r.status).toBe(200);
      expect(r.body.events.length).toBeGreaterThan(PEOPLE);
    });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ action: 'admin_api.read', actor: auditorBot.client_id, subject: 'audit', detail: { operation: 'tailAudit', filter: { action: 'admin.*', limit: 500 } } });
    expect(Number(records[0]?.detail.returned)).toBeGreaterThan(PEOPLE);
  });

  it('records a read of the access review (it names people)', async () => {
    const records = await recordedDuring(async () => expect((await get('/review?findings_only=true')).status).toBe(200));
    expect(records).toEqual([expect.objectContaining({ action: 'admin_api.read', subject: 'review', detail: expect.objectContaining({ operation: 'reviewAccess', filter: { findings_only: true } }) as unknown })]);
  });

  it('records nothing for reads without personal data, nor for a refused read', async () => {
    expect(await recordedDuring(async () => expect((await get('/scopes')).status).toBe(200))).toEqual([]);
    expect(await recordedDuring(async () => expect((await get('/users/nobody%40example.com')).status).toBe(404))).toEqual([]);
  });
});
