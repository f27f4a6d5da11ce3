// govauth user …: people managed from the CLI, passwords read from stdin only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import argon2 from 'argon2';
import { totpCode } from '../../src/governance/totp.ts';
import { consumeTotp } from '../../src/governance/user-registry.ts';
import { loadMasterKey } from '../../src/keys/master-key.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await t.cliJson('init', '--demo');
});
afterAll(() => t?.stop());

describe('govauth user', () => {
  it('creates a person from a password on stdin and prints {"id"}', async () => {
    const r = await t.cliWithStdin('a long enough password\n', 'user', 'create', 'Kim@Example.com', '--password-stdin', '--roles', 'auditor', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, string>;
    expect(Object.keys(out)).toEqual(['id', 'propagation']);
    expect(out.id).toMatch(/^usr_/);
    const row = await t.server.db.prisma.user.findUniqueOrThrow({ where: { email: 'kim@example.com' } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(await argon2.verify(row.passwordHash, 'a long enough password')).toBe(true);
  });

  it('refuses weak passwords, missing --password-stdin, bad emails and duplicates', async () => {
    expect((await t.cliWithStdin('short\n', 'user', 'create', 'x@example.com', '--password-stdin')).stderr).toMatch(/at least 12 characters/);
    expect((await t.cliWithStdin('', 'user', 'create', 'x@example.com')).stderr).toMatch(/--password-stdin is required/);
    expect((await t.cliWithStdin('a long enough password', 'user', 'create', 'not-an-email', '--password-stdin')).stderr).toMatch(/is not an email address/);
    const dup = await t.cliWithStdin('a long enough password', 'user', 'create', 'KIM@example.com', '--password-stdin');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);
  });

  it('lists, disables, re-enables and changes roles and passwords', async () => {
    const { users } = await t.cliJson<{ users: { email: string; roles: { role: string }[] }[] }>('user', 'list');
    expect(users.find((u) => u.email === 'kim@example.com')?.roles).toEqual([{ role: 'auditor', expires_at: null }]);
    expect((await t.cliJson<{ user: { disabled: boolean } }>('user', 'disable', 'kim@example.com')).user.disabled).toBe(true);
    expect((await t.cliJson<{ user: { disabled: boolean } }>('user', 'enable', 'kim@example.com')).user.disabled).toBe(false);
    const updated = await t.cliJson<{ user: { roles: { role: string }[] } }>('user', 'update', 'kim@example.com', '--roles', 'end-user,auditor');
    expect(updated.user.roles.map((r) => r.role)).toEqual(['auditor', 'end-user']);
    const changed = await t.cliWithStdin('another long password\n', 'user', 'set-password', 'kim@example.com', '--password-stdin', '--json');
    expect(changed.code).toBe(0);
    const row = await t.server.db.prisma.user.findUniqueOrThrow({ where: { email: 'kim@example.com' } });
    expect(await argon2.verify(row.passwordHash, 'another long password')).toBe(true);
    expect((await t.cli('user', 'disable', 'nobody@example.com')).stderr).toMatch(/no user nobody@example.com/);
  });

  it('enrols TOTP: prints secret and otpauth URL once, stores the secret sealed, accepts each code once', async () => {
    const enrolled = await t.cliJson<{ secret: string; otpauth_url: string }>('user', 'mfa', 'enroll', 'kim@example.com');
    expect(Object.keys(enrolled).sort()).toEqual(['otpauth_url', 'propagation', 'replaced', 'secret']);
    expect(enrolled).toMatchObject({ replaced: false });
    expect(enrolled.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(enrolled.otpauth_url).toMatch(/^otpauth:\/\/totp\/govauth:kim%40example\.com\?.*secret=/);
    expect(enrolled.otpauth_url).toMatch(/period=30/);
    expect(enrolled.otpauth_url).toMatch(/digits=6/);
    const row = await t.server.db.prisma.user.findUniqueOrThrow({ where: { email: 'kim@example.com' } });
    expect(row.mfaSecret).not.toContain(enrolled.secret);
    const master = loadMasterKey(loadConfig(t.env).masterKey, silentLogger, false);
    const code = totpCode(enrolled.secret, Date.now());
    expect(await consumeTotp(t.server.db, master, row.id, code, Date.now())).toBe(true);
    expect(await consumeTotp(t.server.db, master, row.id, code, Date.now())).toBe(false); // replay
    expect((await t.cliJson<{ user: { mfa_enrolled: boolean } }>('user', 'mfa', 'reset', 'kim@example.com')).user.mfa_enrolled).toBe(false);
  });

  it('registers web apps with redirect URIs, public apps without a secret, and refuses bad redirect URIs', async () => {
    const web = await t.cliJson<{ client_id: string; client_secret: string }>('client', 'create', '--name', 'Studio', '--grant', 'authorization_code', '--redirect-uri', 'https://studio.example/cb', '--redirect-uri', 'http://127.0.0.1:8080/cb');
    expect(web.client_secret).toBeTruthy();
    const shown = await t.cliJson<{ client: { grant_types: string[]; redirect_uris: string[] } }>('client', 'show', web.client_id);
    expect(shown.client.grant_types).toEqual(['authorization_code', 'refresh_token']);
    expect(shown.client.redirect_uris).toEqual(['https://studio.example/cb', 'http://127.0.0.1:8080/cb']);
    const pub = await t.cliJson<{ client_secret: string | null }>('client', 'create', '--name', 'CLI tool', '--grant', 'authorization_code', '--redirect-uri', 'http://127.0.0.1/cb', '--public');
    expect(pub.client_secret).toBeNull();
    for (const uri of ['http://studio.example/cb', 'https://studio.example/cb#frag', 'javascript:alert(1)', 'not a uri']) {
      const r = await t.cli('client', 'create', '--name', 'x', '--grant', 'authorization_code', '--redirect-uri', uri);
      expect(r.code, uri).toBe(1);
    }
    expect((await t.cli('client', 'create', '--name', 'x', '--grant', 'authorization_code')).stderr).toMatch(/at least one --redirect-uri/);
  });
});
