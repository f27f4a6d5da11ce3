// Access requests with the two-person rule, as an operator and approvers use them: the real CLI
// against a running server's database (`govauth requests …`, `govauth audit approvals`). The grant
// an approval makes is in force on return; every step is in the audit trail; bad input is a
// clear refusal (exit 1 or 2), never a grant nobody approved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAccessRequestServer } from '../helpers/access-request-fixture.ts';
import { createUser } from '../helpers/people.ts';
import type { TestServer } from '../helpers/test-server.ts';

let t: TestServer;

interface Request {
  id: string;
  state: string;
  role: string;
  holder: { type: string; id: string; label: string };
  requested_by: { type: string; id: string };
  duration: number;
  decisions: { approver_email: string; decision: string }[];
  grant_expires_at: string | null;
  approvers_distinct_from_requester: boolean | null;
}
interface Failure {
  error: string;
  message: string;
}

const request = async (...args: string[]): Promise<Request> => (await t.cliJson<{ request: Request }>('requests', ...args)).request;
async function refused(code: number, ...args: string[]): Promise<Failure> {
  const r = await t.cli(...args, '--json');
  expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(code);
  return JSON.parse(r.stderr) as Failure;
}
const roles = async (email: string) => (await t.cliJson<{ grants: { role: string; expires_at: string | null; reason: string | null }[] }>('user', 'roles', email)).grants;
const audit = async (action: string) =>
  (await t.cliJson<{ events: { action: string; actor: string; outcome: string; subject: string; detail: Record<string, unknown> }[] }>('audit', 'tail', '--action', action, '--limit', '1000')).events;
const file = (user: string, role = 'admin', duration = '4h') => request('create', '--user', user, '--role', role, '--for', duration, '--justification', `incident INC-1 for ${user}`);

beforeAll(async () => {
  t = await startAccessRequestServer(
    { 'alice@example.com': ['end-user'], 'erin@example.com': ['end-user'], 'bob@example.com': ['access-approver'], 'carol@example.com': ['access-approver'], 'dave@example.com': ['end-user'] },
    { env: { GOVAUTH_OPERATOR: 'ops-alex' } },
  );
});
afterAll(() => t?.stop());

describe('govauth requests policy', () => {
  it('sets, shows and audits a role’s policy; refuses bad terms', async () => {
    const { policy } = await t.cliJson<{ policy: Record<string, unknown> }>('requests', 'policy', 'set', 'admin', '--approver-role', 'access-approver', '--approvals', '2', '--max', '8h', '--lapse-after', '1h');
    expect(policy).toMatchObject({ role: 'admin', require_approval: true, approvals: 2, approver_role: 'access-approver', max_duration: 28_800, lapse_after: 3600 });
    const text = await t.cli('requests', 'policy', 'list');
    expect(text.stdout).toMatch(/^ROLE\s+APPROVAL\s+APPROVERS\s+APPROVER ROLE\s+LONGEST\s+LAPSES AFTER/);
    expect(text.stdout).toMatch(/admin\s+required\s+2\s+access-approver\s+8h\s+1h/);
    expect((await audit('admin.access_policy.set')).at(-1)).toMatchObject({ actor: 'ops-alex', subject: 'admin', detail: { before: null } });
    expect((await refused(1, 'requests', 'policy', 'set', 'nosuchrole', '--approver-role', 'access-approver', '--max', '1h')).message).toContain('no role named nosuchrole');
    expect((await refused(1, 'requests', 'policy', 'set', 'data-scientist', '--approver-role', 'nobody', '--max', '1h')).message).toContain('no role named nobody');
    expect((await refused(1, 'requests', 'policy', 'set', 'data-scientist', '--approver-role', 'access-approver', '--max', '1h', '--approvals', '3')).message).toContain('approvals must be 1 or 2');
    expect((await refused(1, 'requests', 'policy', 'set', 'data-scientist', '--approver-role', 'access-approver')).message).toContain('longest duration');
    expect((await refused(1, 'requests', 'policy', 'set', 'data-scientist', '--approver-role', 'access-approver', '--max', '200d')).error).toBe('invalid_request');
    expect((await refused(2, 'requests', 'policy', 'set', 'data-scientist', '--approval', 'maybe')).error).toBe('usage_error');
  });
});

describe('a request approved by two people', () => {
  it('refuses self-approval, a non-approver and the same approver twice; the second approver grants at once', async () => {
    const r = await file('alice@example.com');
    expect(r).toMatchObject({ state: 'pending', role: 'admin', holder: { type: 'user', label: 'alice@example.com' }, requested_by: { type: 'cli', id: 'ops-alex' }, duration: 14_400 });
    expect((await refused(1, 'requests', 'approve', r.id, '--as', 'alice@example.com')).message).toBe('nobody may decide their own request or a request for themselves');
    expect((await refused(1, 'requests', 'approve', r.id, '--as', 'dave@example.com')).message).toContain('does not hold role access-approver');
    expect((await refused(1, 'requests', 'approve', r.id, '--as', 'nobody@example.com')).error).toBe('not_found');
    const first = await request('approve', r.id, '--as', 'bob@example.com', '--reason', 'on call');
    expect(first.state).toBe('pending');
    expect(await roles('alice@example.com')).toEqual([expect.objectContaining({ role: 'end-user' })]);
    const twice = await refused(1, 'requests', 'approve', r.id, '--as', 'Bob@Example.com');
    expect(twice.error).toBe('conflict');
    expect(twice.message).toContain('a second approval must come from someone else');
    const done = await t.cliJson<{ request: Request; propagation: { complete: boolean } }>('requests', 'approve', r.id, '--as', 'carol@example.com');
    expect(done.request).toMatchObject({ state: 'approved', approvers_distinct_from_requester: true });
    expect(done.propagation.complete).toBe(true);
    const grant = (await roles('alice@example.com')).find((g) => g.role === 'admin');
    expect(Date.parse(grant?.expires_at ?? '')).toBeCloseTo(Date.now() + 4 * 3600_000, -5);
    expect(grant?.reason).toContain(r.id);
    expect(t.server.policy.user(first.holder.id)?.roles.map((g) => g.role)).toContain('admin');
    // Decided: nobody may approve or deny it again.
    expect((await refused(1, 'requests', 'approve', r.id, '--as', 'bob@example.com')).message).toContain('is approved already');
    expect((await refused(1, 'requests', 'deny', r.id, '--as', 'carol@example.com')).message).toContain('is approved already');
    const refusals = await audit('access_request.approve_refused');
    expect(refusals.map((e) => e.detail.refusal)).toEqual(['self_approval', 'not_an_approver', 'already_approved_by_you', 'already_decided']);
    expect(refusals.every((e) => e.outcome === 'denied')).toBe(true);
  });

  it('shows in `govauth audit approvals` who approved and that they differ from the requester', async () => {
    const text = await t.cli('audit', 'approvals', '--user', 'alice@example.com');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('1 grant made by access requests');
    expect(text.stdout).toMatch(/APPROVERS DIFFERENT FROM REQUESTER/);
    expect(text.stdout).toMatch(/alice@example\.com\s+admin\s+cli:ops-alex\s+bob@example\.com, carol@example\.com\s+yes/);
    const json = await t.cliJson<{ grants: { approvers: { email: string }[]; approvers_distinct_from_requester: boolean; justification: string }[] }>('audit', 'approvals', '--role', 'admin');
    expect(json.grants).toEqual([expect.objectContaining({ approvers: [expect.objectContaining({ email: 'bob@example.com' }), expect.objectContaining({ email: 'carol@example.com' })], approvers_distinct_from_requester: true, justification: 'incident INC-1 for alice@example.com' })]);
    expect((await t.cliJson<{ grants: unknown[] }>('audit', 'approvals', '--role', 'auditor')).grants).toEqual([]);
    expect((await refused(1, 'audit', 'approvals', '--user', 'nobody@example.com')).error).toBe('not_found');
    expect((await refused(2, 'audit', 'approvals', '--limit', '0')).error).toBe('usage_error');
  });
});

describe('bad requests', () => {
  it('refuses unknown people and roles, a role without a policy, a duration beyond the maximum, a duplicate', async () => {
    expect((await refused(1, 'requests', 'create', '--user', 'nobody@example.com', '--role', 'admin', '--for', '1h', '--justification', 'x')).message).toBe('no user nobody@example.com');
    expect((await refused(1, 'requests', 'create', '--user', 'dave@example.com', '--role', 'nosuch', '--for', '1h', '--justification', 'x')).message).toBe('no role named nosuch');
    expect((await refused(1, 'requests', 'create', '--user', 'dave@example.com', '--role', 'auditor', '--for', '1h', '--justification', 'x')).message).toContain('role auditor cannot be requested');
    expect((await refused(1, 'requests', 'create', '--user', 'dave@example.com', '--role', 'admin', '--for', '9h', '--justification', 'x')).message).toBe('role admin may be requested for at most 8h (asked for 9h)');
    expect((await refused(1, 'requests', 'create', '--user', 'dave@example.com', '--role', 'admin', '--for', 'forever', '--justification', 'x')).error).toBe('invalid_request');
    expect((await refused(1, 'requests', 'create', '--user', 'dave@example.com', '--role', 'admin', '--for', '1h', '--justification', 'bad\u0007text')).message).toContain('control characters');
    expect((await refused(2, 'requests', 'create', '--user', 'dave@example.com', '--role', 'admin', '--for', '1h')).message).toContain('--justification is required');
    expect((await refused(2, 'requests', 'create', '--role', 'admin', '--for', '1h', '--justification', 'x')).message).toContain('name exactly one of');
    expect((await refused(2, 'requests', 'approve', 'ar_x')).message).toContain('--as');
    expect((await refused(1, 'requests', 'approve', 'ar_nothing', '--as', 'bob@example.com')).error).toBe('not_found');
    const r = await file('dave@example.com', 'admin', '1h');
    expect((await refused(1, 'requests', 'create', '--user', 'dave@example.com', '--role', 'admin', '--for', '1h', '--justification', 'again')).message).toContain('already pending');
    await request('cancel', r.id);
    expect((await refused(1, 'requests', 'cancel', r.id)).message).toContain('is cancelled already');
  });
});

describe('denial, cancellation and lapse', () => {
  it('one denial ends the request; nothing is granted', async () => {
    const r = await file('erin@example.com', 'admin', '2h');
    await request('approve', r.id, '--as', 'bob@example.com');
    const denied = await request('deny', r.id, '--as', 'carol@example.com', '--reason', 'no ticket');
    expect(denied.state).toBe('denied');
    expect((await roles('erin@example.com')).map((g) => g.role)).toEqual(['end-user']);
    expect((await refused(1, 'requests', 'approve', r.id, '--as', 'carol@example.com')).message).toContain('is denied already');
    expect((await audit('access_request.denied')).at(-1)).toMatchObject({ detail: { request: r.id, approver: { email: 'carol@example.com' }, reason: 'no ticket' } });
  });

  it('the person it is for may cancel it; an approver may not', async () => {
    const r = await file('erin@example.com', 'admin', '2h');
    expect((await refused(1, 'requests', 'cancel', r.id, '--as', 'bob@example.com')).error).toBe('not_found');
    expect((await request('cancel', r.id, '--as', 'erin@example.com')).state).toBe('cancelled');
  });

  it('a request pending past its time reads as lapsed at once, cannot be approved, and the sweep records it', async () => {
    const r = await file('erin@example.com', 'admin', '2h');
    t.advance(3601_000);
    try {
      // The CLI reads the real clock: look through the server, whose clock moved.
      const { getAccessRequest } = await import('../../src/governance/access-request-views.ts');
      expect((await getAccessRequest(t.server.db, r.id, Date.now() + 3601_000)).state).toBe('lapsed');
      const { decideAccessRequest } = await import('../../src/governance/access-requests.ts');
      await expect(decideAccessRequest(t.server.db, r.id, { email: 'bob@example.com' }, { approve: true }, { actorType: 'cli', actor: 'test' }, Date.now() + 3601_000, t.server.accessRequests)).rejects.toMatchObject({ code: 'conflict', reason: 'lapsed' });
      // The refused approval closed it as lapsed in the same write.
      expect((await request('show', r.id)).state).toBe('lapsed');
      expect((await audit('access_request.lapsed')).map((e) => e.detail.request)).toContain(r.id);
      expect((await roles('erin@example.com')).map((g) => g.role)).toEqual(['end-user']);
    } finally {
      t.advance(-3601_000);
    }
  });
});

describe('the approver role at the moment of approval', () => {
  it('an approver whose time-boxed approver grant has ended may no longer approve', async () => {
    await createUser(t, 'frank@example.com', ['end-user']);
    await t.cliJson('user', 'grant-role', 'frank@example.com', 'access-approver', '--expires-in', '90s');
    const r = await file('erin@example.com', 'admin', '1h');
    const { decideAccessRequest } = await import('../../src/governance/access-requests.ts');
    const later = Date.now() + 120_000;
    await expect(decideAccessRequest(t.server.db, r.id, { email: 'frank@example.com' }, { approve: true }, { actorType: 'cli', actor: 'test' }, later, t.server.accessRequests)).rejects.toMatchObject({ code: 'forbidden', reason: 'not_an_approver' });
    // While the grant is in force, the same approval counts.
    expect((await request('approve', r.id, '--as', 'frank@example.com')).decisions.map((d) => d.approver_email)).toEqual(['frank@example.com']);
    await request('cancel', r.id);
  });
});

describe('a role that needs no approval', () => {
  it('is granted at once within its maximum, and recorded as needing none', async () => {
    await t.cliJson('requests', 'policy', 'set', 'end-user', '--approver-role', 'access-approver', '--approval', 'none', '--max', '1d');
    const r = await request('create', '--user', 'bob@example.com', '--role', 'end-user', '--for', '8h', '--justification', 'try the app');
    expect(r).toMatchObject({ state: 'approved', decisions: [] });
    expect((await roles('bob@example.com')).map((g) => g.role)).toContain('end-user');
    const text = await t.cli('audit', 'approvals', '--user', 'bob@example.com');
    expect(text.stdout).toContain('n/a (no approval required)');
  });
});
