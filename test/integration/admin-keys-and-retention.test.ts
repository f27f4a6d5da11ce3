// The admin API's signing-key and audit-retention routes over real HTTP against a real
// database, as `govauth keys list|rotate|withdraw` and `govauth audit prune` do them from the
// CLI: a client holding govauth-admin (or govauth-auditor) sends a client_credentials token
// for urn:govauth:admin (helpers-admin-http.ts, which also parses every successful response
// with the route's strict response schema). The tests run in order: they rotate and withdraw the
// server's keys, then prune the audit trail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventView } from '../../src/audit/audit-query.ts';
import type { KeyView } from '../../src/keys/key-rotation.ts';
import { decodeJwt, type ClientCreds } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { callAdmin, createAdminBots, tokenFor as tokenAt, type Answer } from '../helpers/admin-http.ts';

const PREPUBLISH_DEFAULT = 3600; // GOVAUTH_KEY_PREPUBLISH

let t: TestServer;
let adminBot: ClientCreds;
let auditorBot: ClientCreds;
let adminToken: string;
let auditorToken: string;
/** The key the server started with, and the one the first rotation publishes. */
let firstKid: string;
let pendingKid: string;

type Body = Partial<{ keys: KeyView[]; key: KeyView; events: AuditEventView[]; removed: number; before: string; ok: boolean; first: number; error: string; error_description: string }>;

const call = (token: string, method: string, path: string, body?: unknown, raw?: { type: string; text: string }): Promise<Answer<Body>> =>
  callAdmin<Body>(t.url, token, method, path, body, raw && { headers: { 'content-type': raw.type }, raw: raw.text });
const admin = (method: string, path: string, body?: unknown): Promise<Answer<Body>> => call(adminToken, method, path, body);
const tokenFor = (creds: ClientCreds): Promise<string> => tokenAt(t.url, creds);

const jwksKids = async (): Promise<string[]> => ((await (await fetch(`${t.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
const keyState = async (kid: string): Promise<string | undefined> => (await admin('GET', '/keys')).body.keys?.find((k) => k.kid === kid)?.state;
const secondsFromNow = (iso: string | null | undefined): number => (Date.parse(iso ?? '') - Date.now()) / 1000;

beforeAll(async () => {
  t = await startTestServer();
  ({ adminBot, auditorBot } = await createAdminBots(t));
  adminToken = await tokenFor(adminBot);
  auditorToken = await tokenFor(auditorBot);
});
afterAll(() => t?.stop());

describe('signing keys', () => {
  it('lists the key the server started with: active, the one that signed the admin token; the auditor may list too', async () => {
    const r = await admin('GET', '/keys');
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.body.keys).toHaveLength(1);
    const [key] = r.body.keys ?? [];
    expect(key).toMatchObject({ alg: 'RS256', state: 'active', retires_at: null, expires_at: null });
    firstKid = key?.kid ?? '';
    expect(decodeJwt(adminToken).header.kid).toBe(firstKid);
    expect(await jwksKids()).toEqual([firstKid]);
    expect((await call(auditorToken, 'GET', '/keys')).body).toEqual(r.body);
  });

  it('rotates: the new key is in JWKS at once but pending, and the current key keeps signing until it activates', async () => {
    const r = await admin('POST', '/keys/rotate');
    expect(r.status).toBe(200);
    const key = r.body.key;
    expect(key).toMatchObject({ state: 'pending', alg: 'RS256' });
    expect(key?.kid).not.toBe(firstKid);
    pendingKid = key?.kid ?? '';
    expect(secondsFromNow(key?.activates_at)).toBeGreaterThan(PREPUBLISH_DEFAULT - 60);
    expect(secondsFromNow(key?.activates_at)).toBeLessThanOrEqual(PREPUBLISH_DEFAULT);

    expect((await jwksKids()).sort()).toEqual([firstKid, pendingKid].sort());
    const listed = (await admin('GET', '/keys')).body.keys ?? [];
    expect(listed.find((k) => k.kid === pendingKid)?.state).toBe('pending');
    // The current key retires when the new one takes over, and stays published after that.
    expect(listed.find((k) => k.kid === firstKid)).toMatchObject({ state: 'active', retires_at: key?.activates_at });
    expect(decodeJwt(await tokenFor(adminBot)).header.kid).toBe(firstKid);
  });

  it('refuses to withdraw the only signing key (409), and withdraws it once a rotation with prepublish 0 signs', async () => {
    // A pending key does not sign yet, so it does not count.
    const refused = await admin('POST', `/keys/${firstKid}/withdraw`);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: 'conflict', error_description: expect.stringContaining(`key ${firstKid} is the only one signing`) as string });
    expect(refused.body.error_description).toContain('"prepublish":0');
    expect(await keyState(firstKid)).toBe('active');

    const rotated = await admin('POST', '/keys/rotate', { prepublish: 0 });
    expect(rotated.body.key?.state).toBe('active');
    const nextKid = rotated.body.key?.kid ?? '';
    expect(await keyState(firstKid)).toBe('retired');
    expect(await keyState(pendingKid)).toBe('expired'); // superseded: it never signs

    const signedByOld = adminToken;
    expect(decodeJwt(signedByOld).header.kid).toBe(firstKid);
    expect((await admin('GET', '/keys')).status).toBe(200); // a retired key's tokens still verify
    const withdrawn = await admin('POST', `/keys/${firstKid}/withdraw`);
    expect(withdrawn.status).toBe(200);
    // Emergency withdrawal: govauth itself stops accepting what the key signed, at once — a
    // stolen key must not keep minting admin tokens (the API is guarded by govauth's checker,
    // the same one introspection uses).
    const stale = await callAdmin<{ error?: string }>(t.url, signedByOld, 'GET', '/keys');
    expect(stale.status).toBe(401);
    expect(stale.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(withdrawn.body.key).toMatchObject({ kid: firstKid, state: 'expired' });
    // Out of JWKS at once: resource servers stop verifying the tokens it signed.
    expect(await jwksKids()).toEqual([nextKid]);
    // From here on, tokens signed by the key that signs now.
    adminToken = await tokenFor(adminBot);
    auditorToken = await tokenFor(auditorBot);
    expect(decodeJwt(adminToken).header.kid).toBe(nextKid);
    expect(await keyState(firstKid)).toBe('expired');
    // Now the new key is the only one signing.
    expect((await admin('POST', `/keys/${nextKid}/withdraw`)).status).toBe(409);
  });

  it('lets an auditor list keys but refuses its rotate, withdraw and prune: 403 insufficient_scope', async () => {
    expect((await call(auditorToken, 'GET', '/keys')).status).toBe(200);
    const before = (await admin('GET', '/keys')).body.keys;
    const kid = before?.[0]?.kid ?? '';
    for (const [path, body] of [['/keys/rotate', { prepublish: 0 }], [`/keys/${kid}/withdraw`, undefined], ['/audit/prune', { older_than: '1s' }]] as const) {
      const r = await call(auditorToken, 'POST', path, body);
      expect(r.status, path).toBe(403);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="govauth", error="insufficient_scope", scope="govauth.admin"');
      expect(r.body).toEqual({ error: 'insufficient_scope', error_description: 'this operation requires the govauth.admin scope' });
    }
    expect((await admin('GET', '/keys')).body.keys).toEqual(before);
  });

  it('refuses bad input with the OAuth error JSON: 400 naming the field, 404 for an unknown kid', async () => {
    const before = (await admin('GET', '/keys')).body.keys;
    const refused: [string, unknown, RegExp][] = [
      ['/keys/rotate', { prepublish: -1 }, /^prepublish: .*>=0/],
      ['/keys/rotate', { prepublish: 1.5 }, /^prepublish: .*expected int/],
      ['/keys/rotate', { prepublish: '600' }, /^prepublish: .*expected number/],
      ['/keys/rotate', { prepublish: 30 * 86_400 + 1 }, /^prepublish: .*<=2592000/],
      ['/keys/rotate', { prepublish: 0, force: true }, /^force: unknown field$/],
      ['/keys/rotate', [], /^body: /],
      ['/audit/prune', {}, /^older_than: is required$/],
      ['/audit/prune', { older_than: 'soon' }, /^older_than: must look like 90s, 15m, 8h, 7d or 2w/],
      ['/audit/prune', { older_than: '0d' }, /^older_than: must look like/],
      ['/audit/prune', { older_than: '36501d' }, /^older_than: must be at most 36500 days$/],
      ['/audit/prune', { older_than: 400 }, /^older_than: .*expected string/],
      ['/audit/prune', { older_than: '400d', everything: true }, /^everything: unknown field$/],
    ];
    for (const [path, body, message] of refused) {
      const r = await admin('POST', path, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toBe('invalid_request');
      expect(r.body.error_description, JSON.stringify(body)).toMatch(message);
    }
    const form = await call(adminToken, 'POST', '/keys/rotate', undefined, { type: 'application/x-www-form-urlencoded', text: 'prepublish=0' });
    expect(form).toMatchObject({ status: 415, body: { error: 'unsupported_media_type' } });
    const unknown = await admin('POST', '/keys/no-such-kid/withdraw');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: 'not_found', error_description: 'no signing key no-such-kid' });
    expect((await admin('GET', '/keys/rotate')).status).toBe(405);
    expect((await admin('GET', '/keys')).body.keys).toEqual(before); // nothing was rotated
  });

  it('records each key change with the admin client as actor, before and after, under the CLI action names', async () => {
    await t.server.audit.flush();
    const r = await call(auditorToken, 'GET', `/audit?action=${encodeURIComponent('key.*')}&limit=1000`);
    const events = r.body.events ?? [];
    expect(events.map((e) => e.action)).toEqual(['key.rotate', 'key.rotate', 'key.withdraw']);
    for (const e of events) {
      expect(e).toMatchObject({ actor_type: 'admin', actor: adminBot.client_id, outcome: 'success' });
      expect(e.request_id).toBeTruthy();
      expect(e.detail).toHaveProperty('before');
      expect(e.detail).toHaveProperty('after');
    }
    const [first, second, withdraw] = events;
    expect(first).toMatchObject({ subject: pendingKid, detail: { before: { signing: [firstKid] }, after: { kid: pendingKid }, prepublish_seconds: PREPUBLISH_DEFAULT } });
    expect(second?.detail).toMatchObject({ before: { signing: [firstKid] }, prepublish_seconds: 0 });
    expect(withdraw).toMatchObject({ subject: firstKid, detail: { before: { state: 'published' }, after: { state: 'expired' } } });
  });
});

describe('audit retention', () => {
  it('keeps what is younger than the cut-off: older_than 400d removes nothing, from the API as from the CLI', async () => {
    const r = await admin('POST', '/audit/prune', { older_than: '400d' });
    expect(r.status).toBe(200);
    expect(r.body.removed).toBe(0);
    expect(Math.abs(Date.parse(r.body.before ?? '') - (Date.now() - 400 * 86_400_000))).toBeLessThan(60_000);
    expect(await t.cliJson('audit', 'prune', '--older-than', '400d')).toMatchObject({ removed: 0 });
    expect((await admin('GET', '/audit/verify')).body).toMatchObject({ ok: true, first: 1 });
  });

  it('refuses to prune inside the 30-day floor and records the refusal; `govauth audit verify` still passes (test/security/audit-retention.test.ts prunes old records)', async () => {
    await t.server.audit.flush();
    const count = await t.server.db.prisma.auditEvent.count();
    const r = await admin('POST', '/audit/prune', { older_than: '1s' });
    expect(r.status).toBe(400);
    expect(r.body.error_description).toMatch(/retention floor is 30 days/);
    expect(await t.server.db.prisma.auditEvent.count()).toBe(count + 1);

    const refused = (await admin('GET', '/audit?action=audit.prune_refused')).body.events ?? [];
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ actor_type: 'admin', actor: adminBot.client_id, outcome: 'denied', detail: { floor_days: 30 } });
    expect(refused[0]?.request_id).toBeTruthy();

    const verify = await t.cli('audit', 'verify');
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^audit chain intact/);
    expect((await call(auditorToken, 'GET', '/audit/verify')).body).toMatchObject({ ok: true, first: 1 });
  });
});
