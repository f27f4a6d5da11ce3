// Introspecting a refresh token (RFC 7662; an app may introspect its own) applies the same
// revocation and live-policy checks as an access token's (src/introspection/token-liveness.ts):
// it used to look at user, client and grant revocations only, so a refresh token of a revoked
// role, or one none of whose scopes is granted any more, was reported active although a refresh
// with it is refused. Its audit record names the grant, never the token (an opaque refresh
// token's jti is the token itself).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, type ClientCreds } from '../helpers/oauth.ts';
import { createResourceServer } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { isActive, postToken, signedInAlone } from './helpers/flows.ts';

let t: TestServer;
let rs: ClientCreds;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  rs = await createResourceServer(t, 'rs');
});
afterAll(() => t?.stop());

async function signedIn(name: string) {
  const { email, role, app, tokens } = await signedInAlone(t, name, `reader-${name}`, 'reads training data');
  const creds = { client_id: app.client_id, client_secret: app.client_secret ?? '' };
  const introspectRt = async (): Promise<Record<string, unknown>> => {
    const res = await fetch(`${t.issuer}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(creds) },
      body: new URLSearchParams({ token: tokens.refresh_token ?? '', token_type_hint: 'refresh_token' }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };
  const refresh = () => postToken(t.issuer, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' }, app);
  return { email, role, tokens, introspectRt, refresh };
}

describe('refresh-token introspection', () => {
  it('a refresh token of a revoked role is inactive, as its access tokens are and as a refresh is refused', async () => {
    const s = await signedIn('rhea');
    expect(await s.introspectRt()).toMatchObject({ active: true, token_type: 'refresh_token' });
    await t.cliJson('revoke', '--role', s.role, '--reason', 'role compromised');
    await t.server.policy.sync();
    expect(await isActive(t.issuer, rs, s.tokens.access_token)).toBe(false);
    expect(await s.introspectRt()).toEqual({ active: false });
    expect(await s.refresh()).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('a refresh token none of whose scopes is granted any more is inactive; its audit record holds no token', async () => {
    const s = await signedIn('remy');
    await t.cliJson('user', 'update', s.email, '--roles', '');
    await t.server.policy.sync();
    expect(await s.introspectRt()).toEqual({ active: false });
    expect(await s.refresh()).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    await t.server.audit.flush();
    const rows = await t.server.db.prisma.auditEvent.findMany({ where: { action: 'token.introspected' } });
    const mine = rows.map((r) => JSON.parse(r.detail ?? '{}') as Record<string, unknown>).filter((d) => d.token_kind === 'refresh_token' && d.reason === 'scope_no_longer_granted');
    expect(mine).toHaveLength(1);
    expect(mine[0]?.grant_id).toEqual(expect.any(String));
    for (const r of rows) expect(JSON.stringify(r).includes(s.tokens.refresh_token ?? '<none>'), 'a refresh token in the audit trail').toBe(false);
  });
});
