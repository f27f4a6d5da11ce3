// Two govauth server processes and CLI processes writing to one database at once, as deployed:
// one chain, no forks, no gaps, one record per issued token (appends serialize on an advisory
// lock on PostgreSQL, on the single writer on SQLite), and the console's token counts, which
// each batch adds to in its transaction, add up to the records.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/audit-verify.ts';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { decodeJwt, tokenRequest, type ClientCreds } from '../helpers/oauth.ts';
import { cliProcess, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

let tdb: TestDatabase;
let db: Database;
let env: Record<string, string>;
let servers: ServerProcess[] = [];
let bot: ClientCreds;

beforeAll(async () => {
  tdb = await createTestDatabase();
  env = {
    NODE_ENV: 'test',
    DATABASE_URL: tdb.url,
    GOVAUTH_DATA_DIR: tdb.dataDir,
    GOVAUTH_MASTER_KEY: randomBytes(32).toString('base64'),
    GOVAUTH_PORT: '0',
    GOVAUTH_ISSUER: 'http://localhost:1',
  };
  expect((await cliProcess(env, 'init', '--demo')).code).toBe(0);
  bot = JSON.parse((await cliProcess(env, 'client', 'create', '--name', 'bot', '--grant', 'client_credentials', '--roles', 'data-scientist', '--json')).stdout) as ClientCreds;
  servers = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  db = await openDatabase({ kind: tdb.kind, url: tdb.url }, { now: Date.now });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await db?.close();
  await tdb?.drop();
});

/** Every scope of every issued token, once per token. */
const issuedScopes = (rows: readonly { action: string; detail: string }[]): string[] =>
  rows.filter((r) => r.action === 'token.issued').flatMap((r) => (JSON.parse(r.detail) as { scopes: string[] }).scopes);

describe('audit chain with concurrent writers', () => {
  it('stays one gap-free chain with a record for every token', async () => {
    const requests = Array.from({ length: 160 }, (_, i) =>
      tokenRequest(servers[i % 2]?.url ?? '', { grant_type: 'client_credentials', resource: 'https://models.example' }, { basic: bot }),
    );
    const cli = Array.from({ length: 4 }, (_, i) => cliProcess(env, 'scope', 'create', `concurrent.s${i}`, '--description', `written while tokens are issued ${i}`));
    const [results, cliResults] = await Promise.all([Promise.all(requests), Promise.all(cli)]);
    expect(results.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    expect(cliResults.map((r) => r.code)).toEqual([0, 0, 0, 0]);

    const rows = await db.prisma.auditEvent.findMany({ orderBy: { seq: 'asc' } });
    rows.forEach((r, i) => expect(r.seq).toBe((rows[0]?.seq ?? 0) + i));
    const issued = rows.filter((r) => r.action === 'token.issued').map((r) => (JSON.parse(r.detail) as { jti: string }).jti);
    for (const res of results) expect(issued.filter((j) => j === decodeJwt(String(res.body.access_token)).payload.jti)).toHaveLength(1);
    expect(rows.filter((r) => r.action === 'admin.scope.create' && r.subject?.startsWith('concurrent.'))).toHaveLength(4);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, records: rows.length });

    const rollup = await db.prisma.tokenRollup.findMany();
    const sum = (dimension: string, key: string) => rollup.filter((r) => r.dimension === dimension && r.key === key).reduce((n, r) => ({ issued: n.issued + r.issued, refused: n.refused + r.refused }), { issued: 0, refused: 0 });
    expect(sum('grant', 'client_credentials')).toEqual({ issued: 160, refused: 0 });
    expect(sum('client', bot.client_id)).toEqual({ issued: 160, refused: 0 });
    const scopes = new Set(issuedScopes(rows));
    for (const scope of scopes) expect(sum('scope', scope).issued, scope).toBe(issuedScopes(rows).filter((s) => s === scope).length);
    expect(scopes.size).toBeGreaterThan(0);
  });
});
