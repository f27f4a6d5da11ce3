// Access requests (approve/deny), revocations (with how many live instances each change reached)
// and signing keys (rotate, withdraw): access-request-routes.ts, revocation-routes.ts,
// key-routes.ts, called as the signed-in person.
import { listLiveInstances } from '../db/server-instance-repository.ts';
import type { ConsoleAction, ConsolePage } from './console-kit.ts';
import { defined, required, text } from './form-values.ts';
import { when } from './page-model.ts';

interface RequestView { id: string; state: string; role: string; holder: { label: string }; justification: string; requested_at: string; lapses_at: string; decisions: { approver_email: string; decision: string }[] }

const requestsPage: ConsolePage = {
  path: 'requests',
  nav: 'Requests',
  async render({ operation, who }) {
    const { requests } = await operation<{ requests: RequestView[] }>('listAccessRequests');
    const admin = who.role === 'admin';
    const pending = requests.filter((r) => r.state === 'pending');
    return {
      title: 'Access requests',
      sections: [
        {
          kind: 'table', title: `Waiting for a decision (${pending.length})`, columns: ['Request', 'Holder', 'Role', 'Why', 'Decisions', ''], empty: 'No request is waiting.',
          intro: 'Deciding needs the approver role of the request’s policy; the two-person rule and every other rule are the server’s.',
          rows: pending.map((r) => [r.id, r.holder.label, r.role, r.justification, r.decisions.map((d) => `${d.decision} by ${d.approver_email}`).join(', ') || null,
            admin ? { forms: [
              { action: 'request-approve', label: 'Approve', aria: `Approve ${r.id}`, fields: { id: r.id }, inputs: [{ name: 'reason', label: `Reason for ${r.id}`, type: 'text' }] },
              { action: 'request-deny', label: 'Deny', danger: true, aria: `Deny ${r.id}`, fields: { id: r.id } },
            ] } : null]),
        },
        { kind: 'table', title: 'Decided and lapsed', columns: ['Request', 'Holder', 'Role', 'State', 'Asked'], empty: 'None yet.', rows: requests.filter((r) => r.state !== 'pending').slice(-100).reverse().map((r) => [r.id, r.holder.label, r.role, r.state, when(r.requested_at)]) },
      ],
    };
  },
};

interface RevocationView { kind: string; key: string; label: string; cutoff: string; expires_at: string; reason: string | null; actor: string | null }

const revocationsPage: ConsolePage = {
  path: 'revocations',
  nav: 'Revocations',
  async render({ operation, deps, who }) {
    const [{ revocations }, live] = await Promise.all([operation<{ revocations: RevocationView[] }>('listRevocations'), listLiveInstances(deps.db)]);
    return {
      title: 'Revocations',
      sections: [
        { kind: 'facts', title: 'Where revocations are in force', items: [{ label: 'Live server instances', value: String(live.length) }], intro: 'Each revocation below is served by every live instance once applied; the message after a revocation says how many had applied it.' },
        { kind: 'table', title: `In force (${revocations.length})`, columns: ['Principal', 'Kind', 'Tokens issued before', 'Reason', 'By', 'Kept until'], empty: 'No revocation is in force.', rows: revocations.map((r) => [r.label, r.kind, when(r.cutoff), r.reason, r.actor, when(r.expires_at)]) },
        ...(who.role === 'admin'
          ? [{
              kind: 'form' as const, title: 'Revoke',
              intro: 'Every token issued to the principal until now turns inactive and its refresh tokens end.',
              form: {
                action: 'revoke', label: 'Revoke', danger: true,
                inputs: [
                  { name: 'kind', label: 'What', type: 'select' as const, value: 'user', options: [{ value: 'user', label: 'A person (email)' }, { value: 'client', label: 'A client (client_id)' }, { value: 'role', label: 'A role' }, { value: 'grant', label: 'A grant (grant_id)' }] },
                  { name: 'target', label: 'Who or which', type: 'text' as const, required: true },
                  { name: 'reason', label: 'Reason', type: 'text' as const, required: true },
                ],
              },
            }]
          : []),
      ],
    };
  },
};

interface KeyView { kid: string; alg: string; state: string; created_at: string; activates_at: string; retires_at: string | null; expires_at: string | null }

const keysPage: ConsolePage = {
  path: 'keys',
  nav: 'Keys',
  async render({ operation, who }) {
    const { keys } = await operation<{ keys: KeyView[] }>('listKeys');
    const admin = who.role === 'admin';
    return {
      title: 'Signing keys',
      sections: [
        { kind: 'table', title: 'Keys', columns: ['kid', 'Algorithm', 'State', 'Signs from', 'Retires', 'Leaves JWKS', ''], empty: 'No keys.', rows: keys.map((k) => [{ text: k.kid, code: true }, k.alg, k.state, when(k.activates_at), when(k.retires_at), when(k.expires_at), admin && k.state !== 'expired' ? { forms: [{ action: 'key-withdraw', label: 'Withdraw', danger: true, aria: `Withdraw key ${k.kid}`, fields: { kid: k.kid } }] } : null]) },
        ...(admin ? [{ kind: 'form' as const, title: 'Rotate', intro: 'A new key is published now and signs after the pre-publication delay; the current key then retires.', form: { action: 'key-rotate', label: 'Rotate signing key', danger: true } }] : []),
      ],
    };
  },
};

export const governancePages: readonly ConsolePage[] = [requestsPage, revocationsPage, keysPage];

const KINDS = new Set(['user', 'client', 'role', 'grant']);

export const governanceActions: readonly ConsoleAction[] = [
  { name: 'request-approve', operationId: 'approveAccessRequest', input: (f) => ({ params: { id: required(f, 'id') }, body: defined({ reason: text(f, 'reason') }) }), done: (_, f) => ({ message: `Approved ${f.id ?? ''}.` }) },
  { name: 'request-deny', operationId: 'denyAccessRequest', input: (f) => ({ params: { id: required(f, 'id') }, body: defined({ reason: text(f, 'reason') }) }), confirm: (f) => `Request ${f.id ?? ''} ends, denied.`, done: (_, f) => ({ message: `Denied ${f.id ?? ''}.` }) },
  {
    name: 'revoke', operationId: 'revoke',
    // An unknown kind names no principal, and the operation's schema refuses that.
    input: (f) => ({ body: defined({ ...(KINDS.has(f.kind ?? '') && { [f.kind ?? '']: required(f, 'target') }), reason: text(f, 'reason') }) }),
    confirm: (f) => `Every token issued to the ${f.kind ?? ''} ${f.target ?? ''} until now turns inactive, on every instance.`,
    done: ({ result }) => ({ message: `Revoked ${(result as { revoked: { label: string } }).revoked.label}.` }),
  },
  { name: 'key-rotate', operationId: 'rotateKey', input: () => ({}), confirm: () => 'A new signing key is published; after the pre-publication delay it signs and the current key retires.', done: ({ result }) => ({ message: `New key ${(result as { key: { kid: string } }).key.kid}.` }) },
  { name: 'key-withdraw', operationId: 'withdrawKey', input: (f) => ({ params: { kid: required(f, 'kid') } }), confirm: (f) => `Key ${f.kid ?? ''} leaves JWKS now: every token it signed stops verifying.`, done: (_, f) => ({ message: `Withdrew ${f.kid ?? ''}.` }) },
];
