// Rotating a shared secret without downtime (issue 21 item 4): with a grace both secrets work at
// the real token endpoint and at introspection, each use of the old one is audited, and after
// the grace (the server's clock moved on) the old one gets invalid_client while the new one
// works; a secret's expiry stops it the same way, and the access review warns ahead of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const API = 'https://models.example';
const HOUR = 3_600_000;
let t: TestServer;

type Event = { action: string; actor: string; client_id: string | null; detail: Record<string, unknown> | null };
const oldSecretEvents = async (id: string): Promise<Event[]> =>
  (await t.cliJson<{ events: Event[] }>('audit', 'tail', '--action', 'client.old_secret_used', '--limit', '50')).events.filter((e) => e.client_id === id);

async function introspect(caller: ClientCreds, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${t.url}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(caller) },
    body: new URLSearchParams({ token }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const token = (c: ClientCreds) => tokenRequest(t.url, { grant_type: 'client_credentials', resource: API }, { basic: c });

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
});
afterAll(() => t?.stop());

describe('secret rotation with a grace', () => {
  it('refuses hostile grace and expiry values with a clear error', async () => {
    const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'hostile', '--grant', 'client_credentials');
    for (const [flag, value, says] of [
      ['--grace', '-1h', 'grace must look like'],
      ['--grace', '31d', 'at most 30 days'],
      ['--grace', 'soon', 'grace must look like'],
      ['--secret-expires', '2001-01-01T00:00:00Z', 'in the past'],
      ['--secret-expires', 'tomorrow', 'secret expiry must be'],
      ['--secret-expires', '3000d', 'at most'],
    ] as const) {
      const r = await t.cli('client', 'rotate-secret', bot.client_id, flag, value);
      expect(r.code, `${flag} ${value}`).not.toBe(0);
      expect(r.stderr).toContain(says);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    // The admin API answers 400 with the same sentence, never a 500.
    const admin = await t.cliJson<ClientCreds>('client', 'create', '--name', 'admin-bot', '--grant', 'client_credentials', '--roles', 'govauth-admin', '--admin-access');
    await t.server.policy.sync();
    const adminToken = String((await tokenRequest(t.url, { grant_type: 'client_credentials', resource: 'urn:govauth:admin' }, { basic: admin })).body.access_token);
    for (const body of [{ grace: '0s' }, { grace: 12 }, { grace: '45d' }, { secret_expires: '1999-12-31' }, { extra: true }]) {
      const res = await fetch(`${t.url}/admin/v1/clients/${bot.client_id}/rotate-secret`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
    }
    const ok = await fetch(`${t.url}/admin/v1/clients/${bot.client_id}/rotate-secret`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ grace: '2h', secret_expires: '90d' }) });
    expect(ok.status).toBe(200);
    const view = (await (await fetch(`${t.url}/admin/v1/clients/${bot.client_id}`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { client: { auth_method: string; secret: { expires_at: string; previous_valid_until: string } } };
    expect(view.client.auth_method).toBe('client_secret');
    expect(view.client.secret.expires_at).toBeTruthy();
    expect(view.client.secret.previous_valid_until).toBeTruthy();
  });

  it('without --grace the old secret stops at once, as before', async () => {
    const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'no-grace', '--grant', 'client_credentials', '--roles', 'data-scientist');
    await t.server.policy.sync();
    expect((await token(bot)).status).toBe(200);
    await t.cliJson('client', 'rotate-secret', bot.client_id);
    await t.server.policy.sync();
    expect((await token(bot)).body.error).toBe('invalid_client');
  });

  it('keeps the old secret working until the grace ends, audited, at the token endpoint and at introspection', async () => {
    const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'rotating-bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
    const rs = await t.cliJson<ClientCreds>('client', 'create', '--name', 'models-rs', '--resource', API, '--introspect');
    await t.server.policy.sync();
    expect((await token(bot)).status).toBe(200); // the old secret is now in the verified cache

    const rotated = await t.cliJson<ClientCreds>('client', 'rotate-secret', bot.client_id, '--grace', '24h');
    const newBot = { client_id: bot.client_id, client_secret: rotated.client_secret };
    const rsRotated = await t.cliJson<ClientCreds>('client', 'rotate-secret', rs.client_id, '--grace', '1h');
    const newRs = { client_id: rs.client_id, client_secret: rsRotated.client_secret };
    await t.server.policy.sync();

    for (let i = 0; i < 3; i++) expect((await token(bot)).status).toBe(200);
    const fresh = await token(newBot);
    expect(fresh.status).toBe(200);
    const access = String(fresh.body.access_token);
    expect((await introspect(rs, access)).body.active).toBe(true);
    expect((await introspect(newRs, access)).body.active).toBe(true);

    // Three uses of the bot's old secret within a minute: one record, naming the grace's end.
    const events = await oldSecretEvents(bot.client_id);
    expect(events).toHaveLength(1);
    expect(events[0]?.actor).toBe(bot.client_id);
    expect(Date.parse(String(events[0]?.detail?.valid_until))).toBeGreaterThan(Date.now() + 23 * HOUR);
    expect((await oldSecretEvents(rs.client_id)).length).toBe(1);

    const shown = await t.cliJson<{ client: { auth_method: string; secret: { previous_valid_until: string | null } } }>('client', 'show', bot.client_id);
    expect(shown.client.auth_method).toBe('client_secret');
    expect(Date.parse(shown.client.secret.previous_valid_until ?? '')).toBeGreaterThan(Date.now() + 23 * HOUR);

    // The grace ends: the old secrets fail as a wrong secret does, though both are cached.
    t.advance(25 * HOUR);
    const refused = await token(bot);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect((await token({ ...bot, client_secret: 'wrong' })).body.error).toBe('invalid_client');
    const late = await token(newBot);
    expect(late.status).toBe(200);
    const old = await introspect(rs, String(late.body.access_token));
    expect(old.status).toBe(401);
    expect(old.body.error).toBe('invalid_client');
    expect((await introspect(newRs, String(late.body.access_token))).status).toBe(200); // authenticated
  });

});

describe('secret expiry', () => {
  it('review warns of a secret expiring within 14 days and flags high-sensitivity scopes held with a shared secret and bearer tokens', async () => {
    const soon = await t.cliJson<ClientCreds>('client', 'create', '--name', 'soon-bot', '--grant', 'client_credentials', '--roles', 'admin', '--secret-expires', '10d');
    const r = await t.cliJson<{ principals: { id: string; auth_method: string | null; secret_expires_at: string | null; findings: { kind: string; scope?: string }[] }[] }>('review');
    const entry = r.principals.find((p) => p.id === soon.client_id);
    expect(entry?.auth_method).toBe('client_secret');
    expect(entry?.secret_expires_at).toBeTruthy();
    expect(entry?.findings).toEqual(expect.arrayContaining([
      expect.objectContaining({ kind: 'secret_expiring_soon' }),
      expect.objectContaining({ kind: 'high_sensitivity_with_shared_secret_bearer', scope: 'ai.deploy.manage' }),
    ]));
    const text = (await t.cli('review', '--findings-only')).stdout;
    expect(text).toContain('auth:   client_secret (secret expires');
    expect(text).toContain('FINDING secret_expiring_soon');
    expect((await t.cli('client', 'list')).stdout).toMatch(/client_secret\s+age 0d, expires in 9d/);
  });

  it('stops the secret at its expiry with invalid_client; a rotation with a new expiry restores it', async () => {
    const bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'expiring-bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--secret-expires', '20d');
    await t.server.policy.sync();
    expect((await token(bot)).status).toBe(200);

    t.advance(21 * 24 * HOUR);
    const refused = await token(bot);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');

    // A rotation restores it. (The server's clock is 21 days ahead of the CLI's here, so the
    // new secret needs more than the 20 days it would inherit from the expired one.)
    const rotated = await t.cliJson<ClientCreds>('client', 'rotate-secret', bot.client_id, '--secret-expires', '60d');
    await t.server.policy.sync();
    expect((await token({ ...bot, client_secret: rotated.client_secret })).status).toBe(200);
    const shown = await t.cliJson<{ client: { secret: { expires_at: string } } }>('client', 'show', bot.client_id);
    expect(Date.parse(shown.client.secret.expires_at) - Date.now()).toBeGreaterThan(59 * 24 * HOUR);
  });
});
