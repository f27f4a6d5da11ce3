// A refresh racing `govauth revoke --user | --client | --role`: revocation wins (RFC 9700 §4.14,
// checklist "refresh vs revoke race"). The race is made deterministic by hooking the refresh at
// the moment oidc-provider stores the rotated refresh token: after every check oidc-provider
// makes (token found, not consumed, grant exists, account exists) and before the access token is
// signed. The revocation commits there, and
// - A: this instance has applied it before the access token is signed: the refresh is refused;
// - B: this instance has not applied it yet when it signs (another instance took the command),
//   and the signing falls in a later second than the cutoff: the access token it returns is
//   inactive as soon as the instance learns of the revocation, and so is the chain.
// Before the fix, the refresh re-checked only role revocations, against the presented refresh
// token's iat, and issuance waited out the cutoff's second, so the new access token (iat after
// the cutoff) outlived `revoke --user` and `--client` (A) and any revocation it raced (B).
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokePrincipal } from '../../src/governance/revocations.ts';
import type { RevocationEntry } from '../../src/governance/revocation-state.ts';
import type { ClientCreds } from '../helpers/oauth.ts';
import { PASSWORD, createResourceServer } from '../helpers/people.ts';
import { authorize, exchange, type Answer } from '../helpers/sign-in-steps.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { isActive, postToken, signedInAlone } from './helpers/flows.ts';

type Kind = 'user' | 'client' | 'role';
type App = { client_id: string; client_secret: string | null };

let t: TestServer;
let rs: ClientCreds;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  rs = await createResourceServer(t, 'rs');
});
afterAll(() => t?.stop());

/** A person with a role of their own and an app of their own, so each case revokes only its own. */
async function fixture(name: string) {
  const { email, role, app, config, tokens } = await signedInAlone(t, name, `racer-${name}`, 'for one race');
  const principal: Record<Kind, string> = { user: email, client: app.client_id, role };
  return { app, config, tokens, principal };
}

/** Runs `hook` once, when the next rotated refresh token is about to be stored. */
function beforeNextRefreshTokenIsStored(hook: () => Promise<void>): { fired: () => boolean } {
  const sql = t.server.db.sql;
  const original = sql.execute.bind(sql);
  let fired = false;
  sql.execute = async (query: string, params: readonly unknown[] = []) => {
    if (!fired && query.startsWith('INSERT INTO "OidcPayload"') && params[0] === 'RefreshToken') {
      fired = true;
      sql.execute = original;
      await hook();
    }
    return original(query, params);
  };
  return { fired: () => fired };
}

const revoke = (kind: Kind, key: string): Promise<{ entry: RevocationEntry }> =>
  revokePrincipal(t.server.db, { [kind]: key, actor: 'cli', reason: 'raced a refresh', horizonSeconds: 3600 }, Date.now());

const refresh = (app: App, rt: string) => postToken(t.issuer, { grant_type: 'refresh_token', refresh_token: rt }, app);

describe.each<Kind>(['user', 'client', 'role'])('a refresh racing revoke --%s', (kind) => {
  it('A: the revocation reaches this instance before the access token is signed: invalid_grant, nothing minted', async () => {
    const { app, tokens, principal } = await fixture(`a-${kind}`);
    const hook = beforeNextRefreshTokenIsStored(async () => {
      await revoke(kind, principal[kind]);
      await t.server.policy.sync();
    });
    const res = await refresh(app, tokens.refresh_token ?? '');
    expect(hook.fired()).toBe(true);
    const minted = res.body.access_token;
    expect(typeof minted === 'string' ? `issued; active at introspection: ${await isActive(t.issuer, rs, minted)}` : 'refused').toBe('refused');
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('B: this instance learns of the revocation only after signing, a second later: the token it minted is inactive, and its refresh token is refused', async () => {
    const { app, tokens, principal } = await fixture(`b-${kind}`);
    const state = t.server.policy.revocations;
    const apply = state.set.bind(state);
    let held: RevocationEntry | undefined;
    // Until released, this instance does not apply the revocation (as if it were made on another
    // instance whose change has not reached this one yet).
    state.set = (entry) => (entry.kind === kind && held === undefined && entry.reason === 'raced a refresh' ? undefined : apply(entry));
    const hook = beforeNextRefreshTokenIsStored(async () => {
      const { entry } = await revoke(kind, principal[kind]);
      state.delete(entry.kind, entry.key);
      // The signing happens in a later second than the cutoff (a slow refresh): outside the
      // cutoff's second, which an iat comparison alone covers.
      const nextSecond = (Math.floor(entry.cutoff / 1000) + 1) * 1000;
      while (Date.now() < nextSecond) await new Promise((r) => setTimeout(r, nextSecond - Date.now()));
      held = entry;
    });
    const res = await refresh(app, tokens.refresh_token ?? '');
    state.set = apply;
    expect(hook.fired()).toBe(true);
    expect(held).toBeDefined();
    apply(held as RevocationEntry); // the change reaches this instance
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await isActive(t.issuer, rs, String(res.body.access_token)), 'the access token minted in the race').toBe(false);
    expect(await isActive(t.issuer, rs, tokens.access_token), 'the access token from before').toBe(false);
    expect(await refresh(app, String(res.body.refresh_token)), 'the refresh token minted in the race').toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
});

describe('issuance right after a revocation', () => {
  it('a person who signs in again right after revoke --user gets working tokens (a revocation is a cutoff, not a block)', async () => {
    const { config, principal, app } = await fixture('again');
    // Revoke at the start of a second, so the sign-in below issues its code inside the cutoff's
    // second unless issuance waits it out (a code of that second would be covered by it).
    const nextSecond = (Math.floor(Date.now() / 1000) + 1) * 1000;
    while (Date.now() < nextSecond) await new Promise((r) => setTimeout(r, nextSecond - Date.now()));
    await revoke('user', principal.user);
    await t.server.policy.sync();
    const answer: Answer = (page) => (page.kind === 'login' ? { email: principal.user, password: PASSWORD } : { decision: 'allow' });
    const { req, callback } = await authorize(config, 'openid offline_access ai.training.read', answer, { extra: { prompt: 'consent' } });
    const fresh: oidc.TokenEndpointResponse = await exchange(config, callback, req);
    expect(await isActive(t.issuer, rs, fresh.access_token)).toBe(true);
    const next = await refresh(app, fresh.refresh_token ?? '');
    expect(next.status).toBe(200);
    expect(await isActive(t.issuer, rs, String(next.body.access_token))).toBe(true);
  });
});
