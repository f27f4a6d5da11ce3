// Races on one access request, each run several times, with the decisions coming from separate
// CLI runs (each its own database connection pool) and the server's sweep: two approvers at once,
// an approval against a denial, an approval against the lapse. Whatever the order, there is at
// most one grant, never one for a denied or lapsed request, and the request's state, its grant
// and its audit records agree. CI runs this on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lapseAccessRequests } from '../../src/governance/access-requests.ts';
import { startAccessRequestServer } from '../helpers/access-request-fixture.ts';
import type { TestServer } from '../helpers/test-server.ts';

let t: TestServer;
const ROUNDS = 2;

interface Request {
  id: string;
  state: string;
}

const file = async (email: string): Promise<Request> =>
  (await t.cliJson<{ request: Request }>('requests', 'create', '--user', email, '--role', 'admin', '--for', '1h', '--justification', 'race')).request;
const show = async (id: string): Promise<Request> => (await t.cliJson<{ request: Request }>('requests', 'show', id)).request;
const records = async (action: string, id: string) =>
  (await t.cliJson<{ events: { detail: Record<string, unknown> }[] }>('audit', 'tail', '--action', action, '--limit', '10000')).events.filter((e) => e.detail.request === id || e.detail.access_request === id);
const holds = async (email: string) => (await t.cliJson<{ grants: { role: string }[] }>('user', 'roles', email)).grants.some((g) => g.role === 'admin');

async function reset(email: string): Promise<void> {
  if (await holds(email)) await t.cliJson('user', 'revoke-role', email, 'admin');
}

/** The request's state, its grant and its records tell one story. */
async function consistent(id: string, email: string): Promise<string> {
  const { state } = await show(id);
  const granted = await records('access_request.granted', id);
  const grants = await records('admin.role_grant.create', id);
  if (state === 'approved') {
    expect(granted).toHaveLength(1);
    expect(grants).toHaveLength(1);
    expect(await holds(email)).toBe(true);
  } else {
    expect(granted).toHaveLength(0);
    expect(grants).toHaveLength(0);
    expect(await holds(email)).toBe(false);
  }
  return state;
}

beforeAll(async () => {
  t = await startAccessRequestServer({ 'alice@example.com': ['end-user'], 'bob@example.com': ['access-approver'], 'carol@example.com': ['access-approver'] });
});
afterAll(() => t?.stop());

describe('decisions at the same moment', () => {
  it('two approvers at once on a two-person request: both count, one grant', async () => {
    await t.cliJson('requests', 'policy', 'set', 'admin', '--approver-role', 'access-approver', '--approvals', '2', '--max', '8h');
    for (let i = 0; i < ROUNDS; i++) {
      await reset('alice@example.com');
      const r = await file('alice@example.com');
      const answers = await Promise.all([t.cli('requests', 'approve', r.id, '--as', 'bob@example.com'), t.cli('requests', 'approve', r.id, '--as', 'carol@example.com')]);
      expect(answers.map((a) => a.code)).toEqual([0, 0]);
      expect(await consistent(r.id, 'alice@example.com')).toBe('approved');
    }
  });

  it('two approvers at once on a one-person request: one approves, the other is told it is decided', async () => {
    await t.cliJson('requests', 'policy', 'set', 'admin', '--approvals', '1');
    for (let i = 0; i < ROUNDS; i++) {
      await reset('alice@example.com');
      const r = await file('alice@example.com');
      const answers = await Promise.all([t.cli('requests', 'approve', r.id, '--as', 'bob@example.com'), t.cli('requests', 'approve', r.id, '--as', 'carol@example.com')]);
      expect(answers.map((a) => a.code).sort()).toEqual([0, 1]);
      expect(answers.find((a) => a.code === 1)?.stderr).toContain('is approved already');
      expect(await consistent(r.id, 'alice@example.com')).toBe('approved');
    }
  });

  it('an approval against a denial: exactly one wins, and a denied request grants nothing', async () => {
    const outcomes = new Set<string>();
    for (let i = 0; i < ROUNDS; i++) {
      await reset('alice@example.com');
      const r = await file('alice@example.com');
      const answers = await Promise.all([t.cli('requests', 'approve', r.id, '--as', 'bob@example.com'), t.cli('requests', 'deny', r.id, '--as', 'carol@example.com')]);
      expect(answers.map((a) => a.code).sort()).toEqual([0, 1]);
      outcomes.add(await consistent(r.id, 'alice@example.com'));
    }
    expect([...outcomes].every((s) => s === 'approved' || s === 'denied')).toBe(true);
  });

  it('an approval against the lapse sweep: approved with its grant, or lapsed with none', async () => {
    await t.cliJson('requests', 'policy', 'set', 'admin', '--lapse-after', '60s');
    for (let i = 0; i < ROUNDS; i++) {
      await reset('alice@example.com');
      const r = await file('alice@example.com');
      // The sweep runs as if 61 s had passed (the request lapsed); the approval on the real clock
      // comes just before its time. Whichever commits first decides.
      const [approved, swept] = await Promise.all([t.cli('requests', 'approve', r.id, '--as', 'bob@example.com'), lapseAccessRequests(t.server.db, Date.now() + 61_000, t.server.accessRequests)]);
      const state = await consistent(r.id, 'alice@example.com');
      if (state === 'approved') {
        expect(approved.code).toBe(0);
        expect(swept).toBe(0);
      } else {
        expect(state).toBe('lapsed');
        expect(approved.code).toBe(1);
        expect(approved.stderr).toContain('lapsed');
      }
    }
  });
});
