// Passwords are argon2id with m = 19 MiB, t = 2, p = 1, "rehashed at sign-in when the
// parameters change" (README, src/governance/passwords.ts): a hash made with other parameters
// is replaced at the next successful sign-in, with the current ones, and sign-in keeps
// working; a wrong password never replaces it.
import argon2 from 'argon2';
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from '../helpers/oauth.ts';
import { headlessSignIn } from '../helpers/headless-sign-in.ts';
import { PASSWORD, createUser, createWebApp, discover } from '../helpers/people.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { authorize, exchange, type Answer } from '../helpers/sign-in-steps.ts';

const CURRENT = { alg: 'argon2id', v: 19, m: 19_456, t: 2, p: 1 };
const WRONG = 'not the right passphrase';

let t: TestServer;
let config: oidc.Configuration;

beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
  config = await discover(t, await createWebApp(t));
});
afterAll(() => t?.stop());

/** The algorithm, version and parameters of a PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash), in any order. */
function paramsOf(phc: string): Record<string, string | number> {
  const [, alg, version, params] = phc.split('$');
  const out: Record<string, string | number> = { alg: alg ?? '' };
  for (const pair of [version, ...(params ?? '').split(',')]) {
    const [k, v] = (pair ?? '').split('=');
    if (k) out[k] = Number(v);
  }
  return out;
}

const storedHash = async (email: string): Promise<string> => (await t.server.db.prisma.user.findUniqueOrThrow({ where: { email } })).passwordHash;
const overwriteHash = (email: string, passwordHash: string) => t.server.db.prisma.user.update({ where: { email }, data: { passwordHash } });

async function failures(actor: string): Promise<number> {
  await t.server.audit.flush();
  return t.server.db.prisma.auditEvent.count({ where: { action: 'login.failed', actor } });
}

describe('a hash made with other argon2 parameters', () => {
  const cases = [
    { name: 'weaker memory and time (m=4096, t=1)', email: 'rae@example.com', options: { type: argon2.argon2id, memoryCost: 4096, timeCost: 1 }, params: { m: 4096, t: 1 } },
    { name: 'only the parallelism differs (p=4)', email: 'sol@example.com', options: { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 4 }, params: { m: 19_456, t: 2, p: 4 } },
  ] as const;

  for (const c of cases) {
    it(`is kept after a wrong password and replaced at the next successful sign-in: ${c.name}`, async () => {
      const id = await createUser(t, c.email, ['data-scientist']);
      await t.server.policy.sync();
      expect(paramsOf(await storedHash(c.email)), 'the CLI hashes with the current parameters').toEqual(CURRENT);
      const old = await argon2.hash(PASSWORD, c.options);
      expect(paramsOf(old)).toMatchObject({ alg: 'argon2id', ...c.params });
      await overwriteHash(c.email, old);

      const seenBetween: string[] = [];
      const answer: Answer = async (page) => {
        if (page.kind === 'consent') return { decision: 'allow' };
        if (page.kind !== 'login') throw new Error(`unexpected ${page.kind} page`);
        if (page.seen === 0) return { email: c.email, password: WRONG };
        if (page.seen > 1) throw new Error(`the right password was refused (${page.status})`);
        // Back on the login page after the wrong password: the old hash must still be there.
        expect(page.status).toBe(401);
        seenBetween.push(await storedHash(c.email));
        return { email: c.email, password: PASSWORD };
      };
      const flow = await authorize(config, 'openid ai.training.read', answer);
      expect(seenBetween).toEqual([old]);
      expect(await failures(id)).toBe(1);

      const tokens = await exchange(config, flow.callback, flow.req);
      expect(decodeJwt(tokens.access_token).payload.sub).toBe(id);
      const rehashed = await storedHash(c.email);
      expect(rehashed).not.toBe(old);
      expect(paramsOf(rehashed), rehashed).toEqual(CURRENT);
      expect(await argon2.verify(rehashed, PASSWORD)).toBe(true);
      expect(await argon2.verify(rehashed, WRONG)).toBe(false);

      // Sign-in still works with the new hash, and a current hash is not rewritten again.
      const again = await headlessSignIn(config, c.email, 'openid ai.training.read');
      expect(decodeJwt(again.access_token).payload.sub).toBe(id);
      expect(await storedHash(c.email)).toBe(rehashed);
    });
  }

  it('is never replaced by wrong passwords alone', async () => {
    const email = 'tam@example.com';
    const id = await createUser(t, email, ['data-scientist']);
    await t.server.policy.sync();
    const old = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 4096, timeCost: 1 });
    await overwriteHash(email, old);
    let attempts = 0;
    // Three wrong passwords (below the lockout), then the walk is abandoned.
    const abandoned = authorize(config, 'openid ai.training.read', (page) => {
      if (page.kind !== 'login') throw new Error(`unexpected ${page.kind} page`);
      if (page.seen === 3) throw new Error('gave up');
      attempts++;
      return { email, password: `${WRONG} ${page.seen}` };
    });
    await expect(abandoned).rejects.toThrow('gave up');
    expect(attempts).toBe(3);
    expect(await failures(id)).toBe(3);
    expect(await storedHash(email)).toBe(old);
  });
});
