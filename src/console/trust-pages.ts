// Self-registered clients (approve, restrict, block, back under the trust policy) and webhook
// notifications (failed ones retried), through self-registration-routes.ts and
// notification-routes.ts, called as the signed-in person. Forms are shown to administrators
// only; posting is refused to auditors by the server whatever a page shows (console-routes.ts).
// Cedar policies have their own pages (policy-pages.ts).
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

export const trustPages: readonly ConsolePage[] = [selfRegisteredPage, notificationsPage];

const decide = (verb: 'approve' | 'block' | 'reset', operationId: string, confirm?: (id: string) => string): ConsoleAction => ({
  name: `self-registered-${verb}`,
  operationId,
  input: (f) => ({ params: { id: required(f, 'id') } }),
  ...(confirm && { confirm: (f: Readonly<Record<string, string>>) => confirm(f.id ?? '') }),
  done: (_, f) => ({ message: `${verb === 'approve' ? 'Approved' : verb === 'block' ? 'Blocked' : 'Put back under the trust policy:'} ${f.id ?? ''}.` }),
});

export const trustActions: readonly ConsoleAction[] = [
  decide('approve', 'approveSelfRegisteredClient'),
  decide('block', 'blockSelfRegisteredClient', (id) => `${id} is refused at once on every instance (invalid_client).`),
  decide('reset', 'resetSelfRegisteredClient'),
  { name: 'self-registered-restrict', operationId: 'restrictSelfRegisteredClient', input: (f) => ({ params: { id: required(f, 'id') }, body: defined({ scopes: csv(f, 'scopes'), resources: csv(f, 'resources') }) }), done: (_, f) => ({ message: `Restricted ${f.id ?? ''}.` }) },
  { name: 'notification-retry', operationId: 'retryNotification', input: (f) => ({ params: { event_id: required(f, 'id') } }), done: (_, f) => ({ message: `Sending ${f.id ?? ''} again.` }) },
];
