// Self-registered clients (approve, restrict, block, back under the trust policy), webhook
// notifications (failed ones retried) and Cedar policy versions (activate, roll back), through
// self-registration-routes.ts, notification-routes.ts and abac-routes.ts, called as the
// signed-in person. Forms are shown to administrators only; posting is refused to auditors by
// the server whatever a page shows (console-routes.ts).
import type { ConsoleAction, ConsolePage } from './console-kit.ts';
import { csv, defined, required } from './form-values.ts';
import { when } from './page-model.ts';

interface SelfRegisteredView { client_id: string; kind: string; host: string | null; name: string; trust: string; vetted: boolean; scope_ceiling: string[] | null; resource_ceiling: string[] | null; created_at: string; reviewed_at: string | null }

const selfRegisteredPage: ConsolePage = {
  path: 'self-registered',
  nav: 'Self-registered',
  async render({ operation, who }) {
    const { clients } = await operation<{ clients: SelfRegisteredView[] }>('listSelfRegisteredClients');
    const admin = who.role === 'admin';
    return {
      title: 'Self-registered clients',
      sections: [
        {
          kind: 'table', title: `Clients that identified or registered themselves (${clients.length})`, columns: ['Client', 'Name', 'Kind', 'Host', 'Standing', 'Vetted', 'Ceiling', 'Since', ''], empty: 'No client registered itself.',
          intro: 'Unvetted clients are held to the trust policy’s ceiling; approving vouches for one, blocking refuses it at once on every instance.',
          rows: clients.map((c) => [{ text: c.client_id, code: true }, c.name, c.kind === 'metadata_document' ? 'metadata document' : 'RFC 7591', c.host, c.trust, c.vetted ? 'yes' : 'no',
            [...(c.scope_ceiling ?? []), ...(c.resource_ceiling ?? [])].join(', ') || null, when(c.created_at),
            admin ? { forms: [
              { action: 'self-registered-approve', label: 'Approve', aria: `Approve ${c.client_id}`, fields: { id: c.client_id } },
              { action: 'self-registered-restrict', label: 'Restrict', aria: `Restrict ${c.client_id}`, fields: { id: c.client_id }, inputs: [{ name: 'scopes', label: `Scopes ${c.client_id} keeps (comma-separated)`, type: 'text' }] },
              { action: 'self-registered-block', label: 'Block', danger: true, aria: `Block ${c.client_id}`, fields: { id: c.client_id } },
              { action: 'self-registered-reset', label: 'Back to the trust policy', aria: `Put ${c.client_id} back under the trust policy`, fields: { id: c.client_id } },
            ] } : null]),
        },
      ],
    };
  },
};

interface NotificationView { id: string; type: string; status: string; attempts: number; next_attempt_at: string | null; last_error: string | null; created_at: string; delivered_at: string | null }

const notificationsPage: ConsolePage = {
  path: 'notifications',
  nav: 'Notifications',
  async render({ operation, who }) {
    const [failed, recent] = await Promise.all([
      operation<{ notifications: NotificationView[] }>('listNotifications', { query: { failed: 'true' } }),
      operation<{ notifications: NotificationView[] }>('listNotifications', { query: { limit: '50' } }),
    ]);
    const admin = who.role === 'admin';
    return {
      title: 'Notifications',
      sections: [
        {
          kind: 'table', title: `Failed: every attempt spent (${failed.notifications.length})`, columns: ['Event', 'Type', 'Attempts', 'Last error', 'Created', ''], empty: 'No notification failed.',
          rows: failed.notifications.map((n) => [{ text: n.id, code: true }, n.type, n.attempts, n.last_error, when(n.created_at),
            admin ? { forms: [{ action: 'notification-retry', label: 'Retry', aria: `Retry ${n.id}`, fields: { id: n.id } }] } : null]),
        },
        { kind: 'table', title: 'Newest 50', columns: ['Event', 'Type', 'Status', 'Attempts', 'Next attempt', 'Delivered', 'Created'], empty: 'No notification yet.', rows: recent.notifications.map((n) => [{ text: n.id, code: true }, n.type, n.status, n.attempts, when(n.next_attempt_at), when(n.delivered_at), when(n.created_at)]) },
      ],
    };
  },
};

interface VersionView { version: number; sha256: string; created_at: string; created_by: string; active: boolean }

const policiesPage: ConsolePage = {
  path: 'policies',
  nav: 'Policies',
  async render({ operation, who, deps }) {
    const [{ versions }, { zones }] = await Promise.all([operation<{ versions: VersionView[] }>('listPolicyVersions'), operation<{ zones: { name: string; cidrs: string[] }[] }>('listPolicyZones')]);
    const admin = who.role === 'admin';
    const active = versions.find((v) => v.active);
    // What the policies read besides roles, read-only here (set with govauth user|client attr, resource|scope label).
    const subjectName = (kind: string, key: string): string => (kind === 'person' ? (deps.policy.user(key)?.email ?? key) : key);
    const attributes = [...(deps.policy.abac?.data().attributes ?? new Map<string, ReadonlyMap<string, Readonly<Record<string, string>>>>())].flatMap(([kind, byKey]) =>
      [...byKey].filter(([, attrs]) => Object.keys(attrs).length > 0).map(([key, attrs]) => [kind, subjectName(kind, key), Object.entries(attrs).map(([k, v]) => `${k}=${v}`).join(', ')]),
    );
    return {
      title: 'Cedar policies',
      sections: [
        { kind: 'facts', title: 'In force', items: [{ label: 'Active version', value: active ? String(active.version) : 'none: roles only' }], intro: 'New versions are applied with govauth policy apply (validated against the schema generated from the catalogue).' },
        {
          kind: 'table', title: `Stored versions (${versions.length})`, columns: ['Version', 'SHA-256', 'Stored', 'By', 'Active', ''], empty: 'No policy set stored.',
          rows: versions.map((v) => [{ text: String(v.version), href: `/console/policies/show?version=${v.version}` }, { text: v.sha256.slice(0, 16), code: true }, when(v.created_at), v.created_by, v.active ? 'yes' : 'no',
            admin && !v.active ? { forms: [{ action: 'policy-activate', label: 'Activate', danger: true, aria: `Activate version ${v.version}`, fields: { version: String(v.version) } }] } : null]),
        },
        { kind: 'table', title: `Attributes and labels (${attributes.length})`, columns: ['Kind', 'Subject', 'Attributes or labels'], empty: 'No attribute or label is set.', rows: attributes.slice(0, 500) },
        { kind: 'table', title: `Network zones (${zones.length})`, columns: ['Zone', 'Ranges'], empty: 'No zone is named.', rows: zones.map((z) => [z.name, z.cidrs.join(', ')]) },
        {
          kind: 'form' as const, title: 'Explain a decision', method: 'get' as const, action: '/console/policies/explain',
          intro: 'The decision for one scope, the policies that determined it and what would change it (as govauth policy explain).',
          form: { action: '', label: 'Explain', inputs: [{ name: 'user', label: 'Person (email)', type: 'text' as const }, { name: 'client', label: 'Or client (client_id)', type: 'text' as const }, { name: 'resource', label: 'Resource (audience)', type: 'text' as const, required: true }, { name: 'scope', label: 'Scope', type: 'text' as const, required: true }] },
        },
        ...(admin && active ? [{ kind: 'form' as const, title: 'Roll back', intro: 'Activate the version that was active before the current one, on every instance.', form: { action: 'policy-rollback', label: 'Roll back', danger: true } }] : []),
      ],
    };
  },
};

const policyShowPage: ConsolePage = {
  path: 'policies/show',
  async render({ operation, query }) {
    const v = await operation<VersionView & { sources: Record<string, string> }>('showPolicyVersion', { params: { version: query.version ?? '' } });
    return {
      title: `Policy version ${v.version}`,
      sections: [
        { kind: 'facts', title: 'Version', items: [{ label: 'Stored', value: when(v.created_at) }, { label: 'By', value: v.created_by }, { label: 'Active', value: v.active ? 'yes' : 'no' }, { label: 'SHA-256', value: v.sha256 }] },
        { kind: 'table', title: 'Files', columns: ['File', 'Cedar'], empty: 'No file.', rows: Object.entries(v.sources).map(([file, source]) => [file, { text: source, code: true }]) },
      ],
    };
  },
};

interface Explained { principal: string; resource: string; scope: string; version: number | null; roles: { granted: boolean; through: string[] }; policy: { permitted: boolean; reason: string; policies: string[]; message: string } | null; decision: string; wouldChange: string[] }

const policyExplainPage: ConsolePage = {
  path: 'policies/explain',
  async render({ operation, query }) {
    const body = Object.fromEntries(['user', 'client', 'resource', 'scope'].flatMap((k) => (query[k]?.trim() ? [[k, query[k].trim()]] : [])));
    const e = await operation<Explained>('explainPolicyDecision', { body: { resource: '', scope: '', ...body } });
    return {
      title: 'Policy decision',
      sections: [
        { kind: 'facts', title: `${e.decision === 'permit' ? 'Permitted' : 'Denied'}: ${e.scope} on ${e.resource}`, items: [{ label: 'Who', value: e.principal }, { label: 'Policy version', value: e.version === null ? 'none: roles only' : String(e.version) }, { label: 'Roles', value: e.roles.granted ? `granted through ${e.roles.through.join(', ')}` : 'not granted', tone: e.roles.granted ? 'ok' : 'bad' }, { label: 'Policy', value: e.policy ? `${e.policy.permitted ? 'permits' : 'forbids'}: ${e.policy.message}` : 'no policy set', ...(e.policy && { tone: e.policy.permitted ? 'ok' as const : 'bad' as const }) }, { label: 'Determined by', value: e.policy?.policies.join(', ') || '—' }] },
        { kind: 'table', title: 'What would change it', columns: ['Change'], empty: 'Nothing listed.', rows: e.wouldChange.map((w) => [w]) },
      ],
    };
  },
};

export const trustPages: readonly ConsolePage[] = [selfRegisteredPage, notificationsPage, policiesPage, policyShowPage, policyExplainPage];

const decide = (verb: 'approve' | 'block' | 'reset', operationId: string, confirm?: (id: string) => string): ConsoleAction => ({
  name: `self-registered-${verb}`,
  operationId,
  input: (f) => ({ params: { id: required(f, 'id') } }),
  ...(confirm && { confirm: (f: Readonly<Record<string, string>>) => confirm(f.id ?? '') }),
  done: (_, f) => ({ message: `${verb === 'approve' ? 'Approved' : verb === 'block' ? 'Blocked' : 'Put back under the trust policy:'} ${f.id ?? ''}.` }),
});

/** A version number as the operation's schema expects it; anything else is refused there. */
const versionOf = (v: string): number | string => (/^\d{1,9}$/.test(v) ? Number(v) : v);

export const trustActions: readonly ConsoleAction[] = [
  decide('approve', 'approveSelfRegisteredClient'),
  decide('block', 'blockSelfRegisteredClient', (id) => `${id} is refused at once on every instance (invalid_client).`),
  decide('reset', 'resetSelfRegisteredClient'),
  { name: 'self-registered-restrict', operationId: 'restrictSelfRegisteredClient', input: (f) => ({ params: { id: required(f, 'id') }, body: defined({ scopes: csv(f, 'scopes'), resources: csv(f, 'resources') }) }), done: (_, f) => ({ message: `Restricted ${f.id ?? ''}.` }) },
  { name: 'notification-retry', operationId: 'retryNotification', input: (f) => ({ params: { event_id: required(f, 'id') } }), done: (_, f) => ({ message: `Sending ${f.id ?? ''} again.` }) },
  { name: 'policy-activate', operationId: 'activatePolicyVersion', input: (f) => ({ body: { version: versionOf(required(f, 'version')) } }), confirm: (f) => `Policy version ${f.version ?? ''} decides every issuance from now on, on every instance.`, done: (_, f) => ({ message: `Activated policy version ${f.version ?? ''}.` }) },
  { name: 'policy-rollback', operationId: 'rollbackPolicy', input: () => ({}), confirm: () => 'The version active before the current one decides every issuance from now on, on every instance.', done: ({ result }) => ({ message: `Rolled back to ${(result as { version: number | null }).version ?? 'no policy (roles only)'}.` }) },
];
