// Backup and restore of a PostgreSQL database with the PostgreSQL client tools: pg_dump in its
// custom format (compressed, restorable selectively, read by pg_restore) and pg_restore into an
// empty database. A logical export of govauth's own tables would re-implement pg_dump badly.
// The dump and the audit head it reports come from one snapshot: a REPEATABLE READ transaction
// exports its snapshot (pg_export_snapshot) and pg_dump --snapshot reads exactly that state, so
// the printed head is the head of the copy, even while servers keep writing
// (https://www.postgresql.org/docs/current/app-pgdump.html, --snapshot).
// Connection details go to the tools as libpq environment variables, never as arguments: a
// password on a command line is visible to every user of the host (ps).
import { spawn } from 'node:child_process';
import pg from 'pg';
import { AppError } from '../errors/app-error.ts';
import type { AuditHead } from './backup-files.ts';

/** libpq's environment for the database in a postgresql:// URL (query options other than sslmode are not libpq's). */
function libpqEnv(url: string): Record<string, string> {
  const u = new URL(url);
  const env: Record<string, string> = { PGDATABASE: decodeURIComponent(u.pathname.slice(1)) };
  if (u.hostname) env.PGHOST = decodeURIComponent(u.hostname.replace(/^\[|\]$/g, ''));
  if (u.port) env.PGPORT = u.port;
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const socketDir = u.searchParams.get('host'); // postgresql:///govauth?host=/var/run/postgresql
  if (socketDir) env.PGHOST = socketDir;
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

/** Runs a PostgreSQL client tool; a missing tool or a failure becomes a clear refusal. */
function runTool(tool: 'pg_dump' | 'pg_restore', args: string[], url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env: { ...process.env, ...libpqEnv(url) }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(
          new AppError(
            'not_found',
            `${tool} is not installed (or not on PATH): install the PostgreSQL client tools of the server's major version or newer ` +
              `(Debian/Ubuntu: apt-get install postgresql-client), or run the procedure in docs/production.md by hand`,
          ),
        );
      } else reject(err);
    });
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new AppError('server_error', `${tool} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ') || 'no message'}`));
    });
  });
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined); // a lost connection fails the query in flight
  try {
    await client.connect();
  } catch (err) {
    if ((err as { code?: string }).code === '3D000') {
      const name = new URL(url).pathname.slice(1);
      throw new AppError('not_found', `database "${name}" does not exist: create an empty one first (createdb ${name}, or CREATE DATABASE) and run the command again`);
    }
    throw err;
  }
  return client;
}

async function auditHead(client: pg.Client): Promise<AuditHead | null> {
  const { rows: found } = await client.query<{ t: string | null }>(`SELECT to_regclass('"AuditEvent"')::text AS t`);
  if (found[0]?.t == null) return null; // a database from before the audit trail
  const { rows } = await client.query<{ seq: number; hash: string; at: Date }>(`SELECT "seq", "hash", "at" FROM "AuditEvent" ORDER BY "seq" DESC LIMIT 1`);
  const row = rows[0];
  return row ? { seq: Number(row.seq), hash: row.hash, at: new Date(row.at).toISOString() } : null;
}

/** pg_dump of the whole database to `tmp`, from the snapshot the returned audit head was read in. */
export async function dumpPostgres(url: string, tmp: string): Promise<AuditHead | null> {
  const client = await connect(url);
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]?.id ?? '';
    const head = await auditHead(client);
    // The exporting transaction stays open until pg_dump has finished (it imports the snapshot at start).
    await runTool('pg_dump', ['--format=custom', '--no-owner', `--snapshot=${snapshot}`, `--file=${tmp}`], url);
    await client.query('COMMIT');
    return head;
  } finally {
    await client.end();
  }
}

/** Tables in the target database outside PostgreSQL's own schemas: a restore needs none. */
export async function postgresTables(url: string): Promise<number> {
  const client = await connect(url);
  try {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`);
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/**
 * pg_restore into the (empty) database, in one transaction: a failure leaves it empty.
 * --no-owner: the objects belong to the user in DATABASE_URL, whoever owned them before.
 */
export async function restorePostgres(url: string, file: string): Promise<void> {
  const database = libpqEnv(url).PGDATABASE ?? '';
  // --dbname takes a connection string when it holds '=': pass the name in that form, quoted.
  await runTool('pg_restore', ['--no-owner', '--exit-on-error', '--single-transaction', `--dbname=dbname='${database.replace(/['\\]/g, '\\$&')}'`, file], url);
}
