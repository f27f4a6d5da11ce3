// Fixtures for the CIBA tests: raw calls to /backchannel and to the token endpoint with the CIBA
// grant (for the answers openid-client turns into exceptions), and the CIBA requests an account
// page lists.
import type { AccountBrowser } from './account-pages.ts';
import { basic, type ClientCreds } from './oauth.ts';

const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

export async function backchannel(issuer: string, client: ClientCreds, params: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${issuer}/backchannel`, { method: 'POST', headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function pollOnce(issuer: string, client: ClientCreds, authReqId: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${issuer}/token`, { method: 'POST', headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: CIBA_GRANT, auth_req_id: authReqId }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The CIBA request ids on the person's approvals page, oldest first, and the page. */
export async function agentRequestsOnPage(browser: AccountBrowser): Promise<{ html: string; ids: string[] }> {
  const html = await (await browser.get('/account/approvals')).text();
  return { html, ids: [...html.matchAll(/action="\/account\/agent-requests\/([^"]+)"/g)].map((m) => decodeURIComponent(m[1] ?? '')) };
}

export async function decideOnPage(browser: AccountBrowser, id: string, decision: 'approve' | 'deny'): Promise<Response> {
  const csrf = await browser.csrf('/account/approvals');
  return browser.post(`/account/agent-requests/${encodeURIComponent(id)}`, { csrf, decision });
}
