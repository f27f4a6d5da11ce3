// The audit record's `resource` came after the chain's format was fixed. Records written before
// it (no resource) must keep verifying, byte for byte as they were hashed; a record with one must
// not have it changed, removed or added unnoticed (src/db/audit-record.ts hashRecord).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/audit-verify.ts';
import { appendAuditEvents } from '../../src/db/audit-log.ts';
import { canonicalJson } from '../../src/db/canonical-json.ts';
import { GENESIS, hashRecord } from '../../src/db/audit-record.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t?.stop());

/** The record hash as govauth computed it before `resource` existed: twelve fields, in canonical JSON. */
function hashBeforeResource(r: { seq: number; at: Date; action: string; actorType: string; actor: string | null; subject: string | null; clientId: string | null; requestId: string | null; ip: string | null; outcome: string; detail: string; prevHash: string }): string {
  const { seq, at, action, actorType, actor, subject, clientId, requestId, ip, outcome, detail, prevHash } = r;
  return createHash('sha256').update(canonicalJson({ seq, at: at.toISOString(), action, actorType, actor, subject, clientId, requestId, ip, outcome, detail, prevHash })).digest('hex');
}

const OLD = { seq: 7, at: new Date('2026-11-23T10:00:00.000Z'), action: 'token.issued', actorType: 'client', actor: 'cl_a', subject: 'cl_a', clientId: 'cl_a', requestId: 'req-1', ip: '203.0.113.7', outcome: 'success', detail: '{"aud":"https://models.example","jti":"j1"}', prevHash: 'ab'.repeat(32) };

describe('the resource in the chain', () => {
  it('hashes a record without a resource exactly as before the column existed', () => {
    // Computed by the hashRecord of the commit before `resource` was added.
    const golden = 'be6d0d3c95d53683d76e65fb000313581d36ca6f3c309583899662108cb5fcdc';
    expect(hashBeforeResource(OLD)).toBe(golden);
    expect(hashRecord({ ...OLD, resource: null })).toBe(golden);
    expect(hashRecord({ ...OLD, resource: 'https://models.example' })).not.toBe(golden);
  });

  it('verifies records written before the column (no resource) followed by records with one; any change to a resource breaks the chain there', async () => {
    const db = t.server.db;
    await t.server.audit.flush();
    const head = await db.prisma.auditEvent.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true, hash: true } });
    // Two records as an older govauth wrote them: hashed without the field, the column left NULL.
    let prev = head ?? GENESIS;
    for (const action of ['admin.resource.create', 'token.issued']) {
      const base = { ...OLD, seq: prev.seq + 1, action, prevHash: prev.hash, at: new Date(db.now()) };
      const hash = hashBeforeResource(base);
      await db.prisma.auditEvent.create({ data: { ...base, hash } });
      prev = { seq: base.seq, hash };
    }
    const old = prev.seq;
    const [withResource] = await db.prisma.$transaction((tx) => appendAuditEvents(db, tx, [{ action: 'token.issued', actorType: 'client', actor: 'cl_a', clientId: 'cl_a', resource: 'https://models.example', detail: { jti: 'j2' } }]));
    const seq = withResource?.seq ?? 0;
    expect(seq).toBe(old + 1);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, last: seq });

    const altered = { ok: false, brokenAt: seq, problem: `record ${seq} was altered (its hash does not match its content)` };
    for (const resource of ['https://other.example', null]) {
      await db.prisma.auditEvent.update({ where: { seq }, data: { resource } });
      expect(await verifyAuditChain(db), String(resource)).toMatchObject(altered);
    }
    await db.prisma.auditEvent.update({ where: { seq }, data: { resource: 'https://models.example' } });
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });

    // A resource added to a record that had none is a change too.
    await db.prisma.auditEvent.update({ where: { seq: old }, data: { resource: 'https://models.example' } });
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: old });
    const cli = await t.cli('audit', 'verify');
    expect(cli.code).toBe(3);
    expect(cli.stderr).toContain(`BROKEN at record ${old}`);
    await db.prisma.auditEvent.update({ where: { seq: old }, data: { resource: null } });
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, last: seq });
  });
});
