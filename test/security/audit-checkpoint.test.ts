// Signed audit checkpoints (issue 17, item 8): `govauth audit checkpoint` prints a JWS over the
// chain's head signed with a dedicated audit key published at /.well-known/govauth-audit-keys
// (never in the token JWKS). A third party verifies it offline with jose and the published key
// alone; `audit verify --checkpoint <jws>` refuses forged checkpoints (other key, alg none,
// altered payload) with a clear message and detects a chain rewritten after the checkpoint;
// GOVAUTH_AUDIT_CHECKPOINT_EVERY writes them periodically to a file and a webhook.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashRecord } from '../../src/db/audit-record.ts';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const TYP = 'govauth-audit-checkpoint+jwt';
let t: TestServer;
let hook: Server;
const received: { type: string | undefined; body: string }[] = [];
let checkpointFile: string;

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const publishedKeys = async (): Promise<JWK[]> => ((await (await fetch(`${t.url}/.well-known/govauth-audit-keys`)).json()) as { keys: JWK[] }).keys;
const takeCheckpoint = async (): Promise<{ checkpoint: string; seq: number; hash: string; kid: string }> => t.cliJson('audit', 'checkpoint');

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ type: req.headers['content-type'], body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const dir = join(process.env.TMPDIR ?? '/tmp', `govauth-cp-${process.pid}-${Date.now()}`);
  checkpointFile = `${dir}.jwsl`;
  t = await startTestServer({
    env: {
      GOVAUTH_AUDIT_CHECKPOINT_EVERY: '1s',
      GOVAUTH_AUDIT_CHECKPOINT_FILE: checkpointFile,
      GOVAUTH_AUDIT_CHECKPOINT_WEBHOOK: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/checkpoints`,
    },
  });
});
afterAll(async () => {
  await t?.stop();
  await new Promise((r) => hook.close(r));
  for (const f of [checkpointFile, `${checkpointFile}.jwks.json`, `${checkpointFile}.other.json`]) rmSync(f, { force: true });
});

describe('the audit key', () => {
  it('is published at its well-known URL as a JWKS of ES256 public keys, and is never in the token JWKS', async () => {
    const res = await fetch(`${t.url}/.well-known/govauth-audit-keys`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/jwk-set+json');
    const keys = await publishedKeys();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(keys[0]).not.toHaveProperty('d');
    const tokenJwks = (await (await fetch(`${t.url}/jwks`)).json()) as { keys: JWK[] };
    expect(tokenJwks.keys.length).toBeGreaterThan(0);
    expect(tokenJwks.keys.map((k) => k.kid)).not.toContain(keys[0]?.kid);
    expect((await t.cliJson<{ keys: JWK[] }>('audit', 'keys')).keys).toEqual(keys);
  });
});

describe('govauth audit checkpoint', () => {
  it('prints a JWS a third party verifies offline with jose and the published key alone, naming the chain head', async () => {
    const published = await publishedKeys();
    const cp = await takeCheckpoint();
    const { payload, protectedHeader } = await jwtVerify(cp.checkpoint, createLocalJWKSet({ keys: published }), { algorithms: ['ES256'], typ: TYP });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: TYP, kid: published[0]?.kid });
    expect(payload).toMatchObject({ seq: cp.seq, hash: cp.hash, iss: 'urn:govauth:audit' });
    expect(typeof payload.iat).toBe('number');
    // The head it names is the chain's record of that seq, and the chain records the checkpoint.
    await t.server.audit.flush();
    const head = await t.server.db.prisma.auditEvent.findUnique({ where: { seq: cp.seq } });
    expect(head?.hash).toBe(cp.hash);
    const recorded = await t.server.db.prisma.auditEvent.findFirst({ where: { action: 'audit.checkpoint', actorType: 'cli', seq: { gt: cp.seq } }, orderBy: { seq: 'asc' } });
    expect(JSON.parse(recorded?.detail ?? '{}')).toMatchObject({ seq: cp.seq, hash: cp.hash, kid: cp.kid });
  });

  it('verifies with audit verify --checkpoint <jws>, and the seq:hash form keeps working', async () => {
    const cp = await takeCheckpoint();
    const r = await t.cli('audit', 'verify', '--checkpoint', cp.checkpoint);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`checkpoint ${cp.seq} matches (signed by audit key ${cp.kid}`);
    expect((await t.cli('audit', 'verify', '--checkpoint', `${cp.seq}:${cp.hash}`)).code).toBe(0);
    // A pinned copy of the published keys works as well as the stored one.
    const pinned = `${checkpointFile}.jwks.json`;
    writeFileSync(pinned, JSON.stringify({ keys: await publishedKeys() }));
    expect((await t.cli('audit', 'verify', '--checkpoint', cp.checkpoint, '--jwks', pinned)).code).toBe(0);
  });
});

describe('forged checkpoints are refused with a clear message', () => {
  const refused = async (jws: string, message: RegExp, ...extra: string[]) => {
    const r = await t.cli('audit', 'verify', '--checkpoint', jws, ...extra);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/checkpoint REFUSED/);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  };

  it('alg none', async () => {
    const cp = await takeCheckpoint();
    const [, payload] = cp.checkpoint.split('.');
    await refused(`${b64({ alg: 'none', typ: TYP, kid: cp.kid })}.${payload}.`, /alg "none"/);
  });

  it('signed with another key, even one claiming the published kid', async () => {
    const cp = await takeCheckpoint();
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ seq: cp.seq, hash: cp.hash }).setProtectedHeader({ alg: 'ES256', kid: cp.kid, typ: TYP }).setIssuer('urn:govauth:audit').setIssuedAt().sign(privateKey);
    await refused(forged, /signature does not verify/);
    const other = await new SignJWT({ seq: cp.seq, hash: cp.hash }).setProtectedHeader({ alg: 'ES256', kid: 'attacker', typ: TYP }).setIssuer('urn:govauth:audit').setIssuedAt().sign(privateKey);
    await refused(other, /key "attacker", which is not one of the audit keys/);
  });

  it('a modified payload (a different head under the genuine signature)', async () => {
    const cp = await takeCheckpoint();
    const [header, , signature] = cp.checkpoint.split('.');
    const altered = `${header}.${b64({ seq: cp.seq, hash: 'f'.repeat(64), iss: 'urn:govauth:audit', iat: Math.floor(Date.now() / 1000) })}.${signature}`;
    await refused(altered, /signature does not verify/);
  });

  it('a genuine checkpoint checked against a pinned key set it is not in', async () => {
    const cp = await takeCheckpoint();
    const { publicKey } = await generateKeyPair('ES256');
    const pinned = `${checkpointFile}.other.json`;
    writeFileSync(pinned, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'pinned', alg: 'ES256' }] }));
    await refused(cp.checkpoint, /not one of the audit keys \(pinned\)/, '--jwks', pinned);
  });
});

describe('govauth audit rotate-key', () => {
  it('signs new checkpoints with a new key, keeps the old one published so its checkpoints still verify, and records the rotation', async () => {
    const old = await takeCheckpoint();
    const { kid } = await t.cliJson<{ kid: string }>('audit', 'rotate-key');
    expect(kid).not.toBe(old.kid);
    // The well-known document is cached for a minute; the CLI reads the stored set.
    const keys = (await t.cliJson<{ keys: JWK[] }>('audit', 'keys')).keys;
    expect(keys.map((k) => k.kid)).toEqual([old.kid, kid]);
    const fresh = await takeCheckpoint();
    expect(fresh.kid).toBe(kid);
    for (const cp of [old, fresh]) expect((await t.cli('audit', 'verify', '--checkpoint', cp.checkpoint)).code).toBe(0);
    await t.server.audit.flush();
    const rec = await t.server.db.prisma.auditEvent.findFirst({ where: { action: 'audit.key_rotate', subject: kid } });
    expect(JSON.parse(rec?.detail ?? '{}')).toMatchObject({ before: { signing: old.kid }, after: { signing: kid } });
  });
});

describe('periodic checkpoints (GOVAUTH_AUDIT_CHECKPOINT_EVERY=1s)', () => {
  it('appends verifiable JWS lines to the file and POSTs the same JWS to the webhook as application/jose', async () => {
    const deadline = Date.now() + 8000;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      try {
        lines = readFileSync(checkpointFile, 'utf8').split('\n').filter(Boolean);
      } catch {
        lines = [];
      }
      if (lines.length >= 2 && received.length >= 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(lines.length).toBeGreaterThanOrEqual(2);
    // After the rotation above, lines may be signed by either key (the well-known copy is cached for a minute).
    const keys = createLocalJWKSet({ keys: (await t.cliJson<{ keys: JWK[] }>('audit', 'keys')).keys });
    for (const line of lines) await jwtVerify(line, keys, { algorithms: ['ES256'], typ: TYP });
    expect(received.map((r) => r.body)).toEqual(expect.arrayContaining(lines.slice(0, 2)));
    expect(received[0]?.type).toBe('application/jose');
    const periodic = await t.server.db.prisma.auditEvent.count({ where: { action: 'audit.checkpoint', actor: 'periodic-checkpoint' } });
    expect(periodic).toBeGreaterThanOrEqual(lines.length);
  });

  it('writes one checkpoint per period however many instances tick', async () => {
    const writer = t.server.checkpoints;
    expect(writer).toBeDefined();
    // A tick right after another (another instance's, or this one's) finds this period taken.
    const results = await Promise.all([writer?.tick(), writer?.tick(), writer?.tick()]);
    expect(results.filter(Boolean).length).toBeLessThanOrEqual(1);
  });
});

describe('a chain rewritten after a checkpoint', () => {
  it('passes plain verification but fails audit verify --checkpoint <jws>', async () => {
    const cp = await takeCheckpoint();
    await t.server.audit.flush();
    // Someone with write access edits a record before the checkpoint's head and recomputes every
    // hash after it, so the chain is consistent again.
    const prisma = t.server.db.prisma;
    const rows = await prisma.auditEvent.findMany({ where: { seq: { gte: cp.seq - 1 } }, orderBy: { seq: 'asc' } });
    let prevHash = rows[0]?.prevHash ?? '';
    for (const [i, r] of rows.entries()) {
      const edited = { ...r, prevHash, detail: i === 0 ? JSON.stringify({ rewritten: true }) : r.detail };
      const hash = hashRecord(edited);
      await prisma.auditEvent.update({ where: { seq: r.seq }, data: { detail: edited.detail, prevHash, hash } });
      prevHash = hash;
    }
    expect((await t.cli('audit', 'verify')).code).toBe(0);
    const r = await t.cli('audit', 'verify', '--checkpoint', cp.checkpoint);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`record ${cp.seq} does not match the checkpoint (the chain was rewritten)`);
  });
});

describe('configuration is checked at start', () => {
  const base = { NODE_ENV: 'test', DATABASE_URL: 'file:./x.db' };
  const problems = (env: Record<string, string>): string => {
    try {
      loadConfig({ ...base, ...env });
      return '';
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.message;
    }
  };
  it('refuses a period without a destination, a destination without a period, a bad period, and a plain-http webhook that is not loopback', () => {
    expect(problems({ GOVAUTH_AUDIT_CHECKPOINT_EVERY: '1h' })).toMatch(/neither GOVAUTH_AUDIT_CHECKPOINT_FILE nor GOVAUTH_AUDIT_CHECKPOINT_WEBHOOK/);
    expect(problems({ GOVAUTH_AUDIT_CHECKPOINT_FILE: 'cp.jwsl' })).toMatch(/without GOVAUTH_AUDIT_CHECKPOINT_EVERY/);
    expect(problems({ GOVAUTH_AUDIT_CHECKPOINT_EVERY: 'soon', GOVAUTH_AUDIT_CHECKPOINT_FILE: 'cp.jwsl' })).toMatch(/GOVAUTH_AUDIT_CHECKPOINT_EVERY="soon": must be a duration/);
    const plain = problems({ GOVAUTH_AUDIT_CHECKPOINT_EVERY: '1h', GOVAUTH_AUDIT_CHECKPOINT_WEBHOOK: 'http://siem.example.com/hook/s3cr3t' });
    expect(plain).toMatch(/must use https/);
    expect(plain).not.toContain('s3cr3t'); // a webhook's path is often its secret
    expect(problems({ GOVAUTH_AUDIT_CHECKPOINT_EVERY: '1h', GOVAUTH_AUDIT_CHECKPOINT_WEBHOOK: 'https://siem.example.com/hook' })).toBe('');
    expect(loadConfig({ ...base, GOVAUTH_AUDIT_CHECKPOINT_EVERY: '15m', GOVAUTH_AUDIT_CHECKPOINT_FILE: '/var/lib/cp.jwsl' }).auditCheckpoint).toEqual({ everyMs: 900_000, file: '/var/lib/cp.jwsl', webhook: undefined });
  });
});
