// Audit filters are exact and their work is bounded (issue 15, hole 4). `GET /audit?action=%25*`
// (and `_*`) once over-matched in SQL (LIKE wildcards) and a post-filter then paged through the
// whole table one query per record. Now hostile filter values return exactly the records whose
// fields match them literally, in a fixed number of queries, and never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditEvents } from '../../src/db/audit-log.ts';
import { exportAuditEvents, tailAuditEvents, type AuditEventView } from '../../src/audit/audit-query.ts';
import type { Database } from '../../src/db/database.ts';
import { callAdmin, createAdminBots, tokenFor } from '../helpers/admin-http.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let token: string;

// Actions and subjects that SQL would misread: LIKE wildcards, the escape character, case that
// SQLite's LIKE ignores, Unicode, quotes.
const ACTIONS = ['x%y', 'x_y', 'xay', 'XAY', 'x\\y', 'x\\\\y', '%', '_', '\\', 'données.été', 'données.ete', '数据.读取', 'emoji.🔐', "q'uote", 'x%yz'];
const SUBJECTS = ['s%', 's_', 'sa', 'S%', '\\', '🔐', 'ü', 'u\u0308'];

beforeAll(async () => {
  t = await startTestServer();
  const { adminBot } = await createAdminBots(t);
  token = await tokenFor(t.url, adminBot);
  const db = t.server.db;
  const events = ACTIONS.flatMap((action, i) => [0, 1].map((k) => ({ action, actorType: 'system' as const, actor: `actor-${i % 3}`, subject: SUBJECTS[(i + k) % SUBJECTS.length], detail: { i, k } })));
  await db.prisma.$transaction((tx) => appendAuditEvents(db, tx, events));
});
afterAll(() => t?.stop());

interface Filter {
  action?: string;
  actor?: string;
  subject?: string;
}

const matching = (all: AuditEventView[], f: Filter): number[] =>
  all
    .filter((e) => {
      if (f.action !== undefined && !(f.action.endsWith('*') ? e.action.startsWith(f.action.slice(0, -1)) : e.action === f.action)) return false;
      if (f.actor !== undefined && e.actor !== f.actor) return false;
      return f.subject === undefined || e.subject === f.subject;
    })
    .map((e) => e.seq);

async function everything(): Promise<AuditEventView[]> {
  await t.server.audit.flush();
  const all: AuditEventView[] = [];
  await exportAuditEvents(t.server.db, {}, (e) => all.push(e));
  return all;
}

/** The server's database with every query it receives counted. */
function counted(db: Database): { db: Database; queries: () => number } {
  let n = 0;
  const count = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(obj, key, receiver) {
        const value = Reflect.get(obj, key, receiver) as unknown;
        if (typeof value !== 'function') return typeof value === 'object' && value !== null && key === 'auditEvent' ? count(value) : value;
        return (...args: unknown[]) => {
          n++;
          return (value as (...a: unknown[]) => unknown).apply(obj, args);
        };
      },
    });
  const wrapped: Database = { kind: db.kind, url: db.url, prisma: count(db.prisma), sql: db.sql, now: db.now, close: () => db.close() };
  return { db: wrapped, queries: () => n };
}

const FILTERS: Filter[] = [
  ...['%', '_', '\\', '%*', '_*', '\\*', 'x%*', 'x_*', 'x\\*', 'x\\\\*', 'X*', 'x*', 'xa*', 'données*', 'données.é*', '数据*', 'emoji.🔐', "q'*", '*'].map((action) => ({ action })),
  ...SUBJECTS.map((subject) => ({ subject })),
  { subject: '%' },
  { subject: '_' },
  { actor: '%' },
  { actor: 'actor-1', action: 'x*' },
];

describe('hostile audit filters', () => {
  it.each(FILTERS)('GET /audit with %o returns exactly the matching records', async (f) => {
    const all = await everything();
    const query = new URLSearchParams({ ...f, limit: '1000' } as Record<string, string>);
    const r = await callAdmin<{ events: AuditEventView[] }>(t.url, token, 'GET', `/audit?${query.toString()}`);
    expect(r.status).toBe(200);
    const want = matching(all, f);
    // The trail grows with every request (its own read record included): compare what existed before.
    expect(r.body.events.map((e) => e.seq).filter((s) => s <= (all.at(-1)?.seq ?? 0))).toEqual(want.slice(-1000));
  });

  it('answers the filters of the report, %25* and _* with limit=1, with the single newest exact match or nothing', async () => {
    const all = await everything();
    for (const action of ['%*', '_*']) {
      const r = await callAdmin<{ events: AuditEventView[] }>(t.url, token, 'GET', `/audit?action=${encodeURIComponent(action)}&limit=1`);
      expect(r.status).toBe(200);
      expect(r.body.events.map((e) => e.seq)).toEqual(matching(all, { action }).slice(-1));
    }
  });

  it('refuses values it cannot hold with a 400, never a 500: too long, NUL, a limit out of range', async () => {
    for (const q of [`action=${'a'.repeat(101)}`, `subject=${'s'.repeat(513)}`, 'action=%00*', 'subject=a%00b', 'limit=0', 'limit=1001', 'limit=1e3']) {
      const r = await callAdmin<{ error?: string }>(t.url, token, 'GET', `/audit?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error, q).toBe('invalid_request');
    }
    // Malformed percent-encoding is taken as the literal text it is (Node's querystring): it matches nothing.
    const malformed = await callAdmin<{ events: AuditEventView[] }>(t.url, token, 'GET', '/audit?action=%E0%A4%A*');
    expect(malformed.status).toBe(200);
    expect(malformed.body.events).toEqual([]);
    const long = await callAdmin<{ events: AuditEventView[] }>(t.url, token, 'GET', `/audit?action=${'%'.repeat(99)}*`);
    expect(long.status).toBe(200);
    expect(long.body.events).toEqual([]);
  });

  it('does a number of queries per request that does not grow with the records, however many over-match in SQL', async () => {
    const filters = [['%*', 1], ['_*', 1], ['x%*', 5], ['x*', 1000], ['xzz.noise', 10], ['nothing.like.this*', 1]] as const;
    const familySize = async (action: string): Promise<number> => new Set((await everything()).map((e) => e.action).filter((a) => action.endsWith('*') && a.startsWith(action.slice(0, -1)))).size;
    const queriesFor = async (action: string, limit: number): Promise<number> => {
      const c = counted(t.server.db);
      const events = await tailAuditEvents(c.db, { action }, limit);
      expect(events.every((e) => (action.endsWith('*') ? e.action.startsWith(action.slice(0, -1)) : e.action === action))).toBe(true);
      return c.queries();
    };
    const before = await Promise.all(filters.map(([a, l]) => queriesFor(a, l)));
    // 300 more records whose action SQL LIKE 'x%' would match and "x%" literally would not.
    const db = t.server.db;
    await db.prisma.$transaction((tx) => appendAuditEvents(db, tx, Array.from({ length: 300 }, (_, i) => ({ action: 'xzz.noise', actorType: 'system' as const, detail: { i } }))));
    for (const [i, [action, limit]] of filters.entries()) {
      const n = await queriesFor(action, limit);
      // One query to resolve a family to its names, then one index seek per name.
      expect(n, `${action}: queries`).toBeLessThanOrEqual(1 + (await familySize(action)));
      expect(n, `${action}: queries`).toBeLessThanOrEqual((before[i] ?? 0) + (action === 'x*' ? 1 : 0)); // x* gained one name: xzz.noise
    }
    const c = counted(t.server.db);
    let n = 0;
    await exportAuditEvents(c.db, { action: '%*' }, () => n++);
    expect(n).toBe(matching(await everything(), { action: '%*' }).length);
    expect(c.queries()).toBeLessThanOrEqual(2);
  });
});
