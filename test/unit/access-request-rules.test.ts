// The pure rules of access requests (src/governance/access-request-rules.ts): who may ask for
// how long, separation of duties (no self-approval, two approvals are two people), the approver
// role at the moment of approval, decided and lapsed requests, cancelling.
import { describe, expect, it } from 'vitest';
import {
  currentState,
  decideApproval,
  decideCancel,
  decideDenial,
  decideRequest,
  policyFault,
  type AccessPolicyTerms,
  type ApproverFacts,
  type RequestFacts,
} from '../../src/governance/access-request-rules.ts';

const NOW = Date.UTC(2026, 11, 5, 12);
const policy: AccessPolicyTerms = { target: { role: 'admin' }, requireApproval: true, approvals: 2, approverRole: 'approver', maxDuration: 8 * 3600, lapseAfter: 86_400 };
const request = (extra: Partial<RequestFacts> = {}): RequestFacts => ({
  id: 'ar_1',
  state: 'pending',
  holderType: 'user',
  holderId: 'usr_alice',
  requestedByType: 'user',
  requestedBy: 'usr_alice',
  duration: 4 * 3600,
  lapsesAt: NOW + 3600_000,
  ...extra,
});
const approver = (id: string, extra: Partial<ApproverFacts> = {}): ApproverFacts => ({ id, email: `${id.slice(4)}@example.com`, disabled: false, holdsApproverRole: true, ...extra });

describe('filing a request', () => {
  it('needs a policy, a duration within its maximum, and no request pending for the same role', () => {
    expect(decideRequest(undefined, { role: 'admin' }, 3600, false)).toMatchObject({ ok: false, code: 'invalid_request', reason: 'not_requestable' });
    expect(decideRequest(policy, { role: 'admin' }, 8 * 3600, false)).toEqual({ ok: true });
    expect(decideRequest(policy, { role: 'admin' }, 8 * 3600 + 1, false)).toMatchObject({ ok: false, reason: 'duration_too_long', message: 'role admin may be requested for at most 8h (asked for 28801s)' });
    expect(decideRequest(policy, { role: 'admin' }, 30, false)).toMatchObject({ ok: false, reason: 'duration_too_short' });
    expect(decideRequest(policy, { role: 'admin' }, 3600, true)).toMatchObject({ ok: false, code: 'conflict', reason: 'already_pending' });
    // One scope on one resource: the same rules, the target named in every message.
    const deploy = { scope: 'ai.deploy.manage', resource: 'https://models.example' };
    expect(decideRequest(undefined, deploy, 3600, false)).toMatchObject({
      reason: 'not_requestable',
      message: 'scope ai.deploy.manage on https://models.example cannot be requested: no access policy is set for it (an administrator sets one with govauth requests policy set --scope ai.deploy.manage --resource https://models.example …)',
    });
    expect(decideRequest({ ...policy, target: deploy, maxDuration: 4 * 3600 }, deploy, 5 * 3600, false)).toMatchObject({ message: 'scope ai.deploy.manage on https://models.example may be requested for at most 4h (asked for 5h)' });
  });

  it('checks an administrator’s policy terms', () => {
    expect(policyFault(policy)).toBeUndefined();
    expect(policyFault({ ...policy, approvals: 3 })).toContain('approvals must be 1 or 2');
    expect(policyFault({ ...policy, approvals: 0 })).toContain('approvals must be 1 or 2');
    expect(policyFault({ ...policy, maxDuration: 91 * 86_400 })).toContain('longest duration');
    expect(policyFault({ ...policy, lapseAfter: 10 })).toContain('pending');
  });
});

describe('approving', () => {
  it('two distinct approvers complete a two-person request; the first leaves it pending', () => {
    expect(decideApproval(request(), policy, approver('usr_bob'), [], NOW)).toEqual({ ok: true, completes: false });
    expect(decideApproval(request(), policy, approver('usr_carol'), ['usr_bob'], NOW)).toEqual({ ok: true, completes: true });
    expect(decideApproval(request(), { ...policy, approvals: 1 }, approver('usr_bob'), [], NOW)).toEqual({ ok: true, completes: true });
  });

  it('refuses the same person twice', () => {
    expect(decideApproval(request(), policy, approver('usr_bob'), ['usr_bob'], NOW)).toMatchObject({ ok: false, code: 'conflict', reason: 'already_approved_by_you' });
  });

  it('refuses the holder and whoever filed the request, even holding the approver role', () => {
    expect(decideApproval(request(), policy, approver('usr_alice'), [], NOW)).toMatchObject({ ok: false, code: 'forbidden', reason: 'self_approval' });
    // Filed by bob for alice: bob may not approve it either.
    const filedByBob = request({ requestedBy: 'usr_bob' });
    expect(decideApproval(filedByBob, policy, approver('usr_bob'), [], NOW)).toMatchObject({ reason: 'self_approval' });
    expect(decideApproval(filedByBob, policy, approver('usr_alice'), [], NOW)).toMatchObject({ reason: 'self_approval' });
    expect(decideDenial(request(), policy, approver('usr_alice'), NOW)).toMatchObject({ reason: 'self_approval' });
  });

  it('needs the approver role now, and an enabled account', () => {
    const outsider = decideApproval(request(), policy, approver('usr_bob', { holdsApproverRole: false }), [], NOW);
    expect(outsider).toMatchObject({ code: 'forbidden', reason: 'not_an_approver' });
    expect(!outsider.ok && outsider.message).toBe('bob@example.com does not hold role approver, which approves requests for role admin');
    expect(decideApproval(request(), policy, approver('usr_bob', { disabled: true }), [], NOW)).toMatchObject({ reason: 'approver_disabled' });
  });

  it('refuses a decided, cancelled or lapsed request, and one whose policy was removed or tightened', () => {
    for (const state of ['approved', 'denied', 'cancelled'] as const) {
      expect(decideApproval(request({ state }), policy, approver('usr_bob'), [], NOW)).toMatchObject({ code: 'conflict', reason: 'already_decided' });
      expect(decideDenial(request({ state }), policy, approver('usr_bob'), NOW)).toMatchObject({ reason: 'already_decided' });
    }
    expect(decideApproval(request({ lapsesAt: NOW }), policy, approver('usr_bob'), [], NOW)).toMatchObject({ code: 'conflict', reason: 'lapsed' });
    expect(decideApproval(request({ state: 'lapsed' }), policy, approver('usr_bob'), [], NOW)).toMatchObject({ reason: 'lapsed' });
    expect(decideApproval(request(), undefined, approver('usr_bob'), [], NOW)).toMatchObject({ reason: 'not_requestable' });
    expect(decideApproval(request(), { ...policy, maxDuration: 3600 }, approver('usr_bob'), [], NOW)).toMatchObject({ reason: 'duration_too_long' });
  });

  it('reads a pending request past its time as lapsed', () => {
    expect(currentState({ state: 'pending', lapsesAt: NOW + 1 }, NOW)).toBe('pending');
    expect(currentState({ state: 'pending', lapsesAt: NOW }, NOW)).toBe('lapsed');
    expect(currentState({ state: 'approved', lapsesAt: NOW - 1 }, NOW)).toBe('approved');
  });
});

describe('cancelling', () => {
  it('is for whoever filed it or its holder, while pending', () => {
    expect(decideCancel(request(), { type: 'user', id: 'usr_alice' }, NOW)).toEqual({ ok: true });
    expect(decideCancel(request({ requestedByType: 'cli', requestedBy: 'ops@host' }), { type: 'cli', id: 'ops@host' }, NOW)).toEqual({ ok: true });
    expect(decideCancel(request(), { type: 'user', id: 'usr_bob' }, NOW)).toMatchObject({ code: 'forbidden', reason: 'not_yours' });
    expect(decideCancel(request({ state: 'approved' }), { type: 'user', id: 'usr_alice' }, NOW)).toMatchObject({ code: 'conflict', reason: 'already_decided' });
    expect(decideCancel(request({ lapsesAt: NOW }), { type: 'user', id: 'usr_alice' }, NOW)).toMatchObject({ reason: 'lapsed' });
  });
});
