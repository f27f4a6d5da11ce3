// Key rotation under continuous load: the new key is published before it signs, the old one
// stays published until its tokens expire, and a resource server refreshing JWKS the way jose
// does never fails a verification. jose's timings are scaled down with the delay (cache max-age
// 1 s against a 2 s pre-publication; production: 10 min against GOVAUTH_KEY_PREPUBLISH=1 h).
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let bot: ClientCreds;

beforeAll(async () => {
  // Continuous load from one bot is far over the default per-client token budget.
  t = await startTestServer({ env: { GOVAUTH_RATE_LIMIT_TOKEN: '0' } });
  await t.cliJson('init', '--demo');
  bot = await t.cliJson<ClientCreds>('client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist');
  await t.server.policy.sync();
});
afterAll(() => t?.stop());

const jwksKids = async (): Promise<string[]> => ((await (await fetch(`${t.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

describe('signing key rotation', () => {
  it('switches keys under load with zero verification failures at a jose resource server', async () => {
    const jwks = createRemoteJWKSet(new URL(`${t.url}/jwks`), { cacheMaxAge: 1000, cooldownDuration: 500 });
    const [oldKid] = await jwksKids();
    const seen = new Map<string, number>();
    const failures: string[] = [];
    let running = true;
    const worker = async (): Promise<void> => {
      while (running) {
        const res = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: 'https://models.example' }, { basic: bot });
        if (res.status !== 200) {
          failures.push(`token ${res.status} ${JSON.stringify(res.body)}`);
          continue;
        }
        const token = String(res.body.access_token);
        try {
          const { protectedHeader } = await jwtVerify(token, jwks, { issuer: t.issuer, audience: 'https://models.example', typ: 'at+jwt' });
          seen.set(String(protectedHeader.kid), (seen.get(String(protectedHeader.kid)) ?? 0) + 1);
        } catch (err) {
          failures.push(`verify ${(err as Error).message} kid=${String(decodeJwt(token).header.kid)}`);
        }
      }
    };
    const load = Promise.all(Array.from({ length: 4 }, worker));
    await new Promise((r) => setTimeout(r, 800));
    const rotated = await t.cliJson<{ kid: string; activates_at: string }>('keys', 'rotate', '--prepublish', '2');
    // Published at once (within the change-feed bound), not yet signing.
    await new Promise((r) => setTimeout(r, 400));
    expect(await jwksKids()).toEqual(expect.arrayContaining([oldKid, rotated.kid]));
    const listed = await t.cliJson<{ keys: { kid: string; state: string }[] }>('keys', 'list');
    expect(listed.keys.find((k) => k.kid === rotated.kid)?.state).toBe('pending');
    await new Promise((r) => setTimeout(r, 3500));
    running = false;
    await load;

    expect(failures).toEqual([]);
    expect(seen.get(oldKid ?? '')).toBeGreaterThan(0);
    expect(seen.get(rotated.kid)).toBeGreaterThan(0);
    const after = await t.cliJson<{ keys: { kid: string; state: string }[] }>('keys', 'list');
    expect(after.keys.find((k) => k.kid === rotated.kid)?.state).toBe('active');
    expect(after.keys.find((k) => k.kid === oldKid)?.state).toBe('retired');
    // The retired key stays published: tokens it signed keep verifying until they expire.
    expect(await jwksKids()).toEqual(expect.arrayContaining([oldKid, rotated.kid]));
    const fresh = await tokenRequest(t.url, { grant_type: 'client_credentials', resource: 'https://models.example' }, { basic: bot });
    expect(decodeJwt(String(fresh.body.access_token)).header.kid).toBe(rotated.kid);
  });

  it('signs ID tokens with the new key too, and withdraws a key on demand', async () => {
    const before = await t.cliJson<{ keys: { kid: string; state: string }[] }>('keys', 'list');
    const active = before.keys.find((k) => k.state === 'active')?.kid ?? '';
    expect((await t.cli('keys', 'withdraw', active)).stderr).toMatch(/only one signing: run govauth keys rotate --prepublish 0 first/);
    const next = await t.cliJson<{ kid: string }>('keys', 'rotate', '--prepublish', '0');
    expect((await t.cli('keys', 'withdraw', active)).code).toBe(0);
    await t.server.policy.sync();
    const kids = await jwksKids();
    expect(kids).toContain(next.kid);
    expect(kids).not.toContain(active);
    const audit = await t.server.db.prisma.auditEvent.findMany({ where: { action: { in: ['key.rotate', 'key.withdraw'] } } });
    expect(audit.map((a) => a.action)).toEqual(['key.rotate', 'key.rotate', 'key.withdraw']);
  });
});
