// govauth backup <file> / govauth restore <file>: a consistent copy of the database while
// servers run, and that copy put back into a new database, migrated to this version, with its
// audit chain verified. The signing keys in a backup are sealed with the master key, which is
// never in the database: without it a backup restores an identity server that cannot sign or
// verify a token. So both commands say where the master key is and that it must be kept, apart.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { databaseLocation } from '../../config/database-config.ts';
import { loadConfig, type Config } from '../../config/load-config.ts';
import type { AuditHead } from '../../db/backup.ts';
import { MasterKeyError } from '../../keys/master-key.ts';
import { flag, type CliContext, type Command } from '../command.ts';
import { ChainBroken } from './governance-commands.ts';

// Loaded when a command runs, not with the command list (src/cli/main.ts).
const auditVerify = () => import('../../audit/audit-verify.ts');
const backups = () => import('../../db/backup.ts');
const database = () => import('../../db/database.ts');
const migrations = () => import('../../db/migrate.ts');
const instances = () => import('../../db/server-instance-repository.ts');
const signingKeys = () => import('../../keys/signing-keys.ts');
const cliErrors = () => import('../errors.ts');

/** Where this configuration takes its master key from, as an operator would look for it. */
function masterKeySource(config: Config, env: CliContext['env']): string {
  if ('key' in config.masterKey) return 'in the GOVAUTH_MASTER_KEY environment variable';
  return `in the file ${config.masterKey.file} (${env.GOVAUTH_MASTER_KEY_FILE ? 'GOVAUTH_MASTER_KEY_FILE' : 'the default, in the data directory'})`;
}

const headText = (head: AuditHead | null): string => (head ? `${head.seq}:${head.hash}` : 'none (no audit records)');

type MasterKeyState = 'matches' | 'missing' | 'mismatch' | 'unreadable';

/** Whether the configured master key opens the restored database's signing keys. Never creates a key. */
async function masterKeyState(config: Config, ctx: CliContext): Promise<{ state: MasterKeyState; message?: string }> {
  const { KeyStoreError } = await signingKeys();
  if ('file' in config.masterKey && !existsSync(config.masterKey.file)) return { state: 'missing' };
  try {
    await ctx.master();
    return { state: 'matches' };
  } catch (err) {
    if (err instanceof KeyStoreError) return { state: 'mismatch' };
    if (err instanceof MasterKeyError) return { state: 'unreadable', message: err.message };
    throw err;
  }
}

export const backupCommands: Command[] = [
  {
    name: 'backup',
    usage: 'govauth backup <file> [--force]',
    summary: 'write a consistent copy of the database while servers run (SQLite: VACUUM INTO; PostgreSQL: pg_dump custom format); --force replaces an existing file',
    options: { force: { type: 'boolean' } },
    positionals: ['file'],
    async run({ values, positionals }, ctx) {
      const [{ backupDatabase }, { isInitialized }] = await Promise.all([backups(), migrations()]);
      const config = loadConfig(ctx.env);
      // Not ctx.db(): a backup copies the database as it is, and never migrates it.
      if (!(await isInitialized(config.database))) {
        const { NoDatabase } = await cliErrors();
        throw new NoDatabase(`no govauth database at ${databaseLocation(config.database)} to back up: check DATABASE_URL or GOVAUTH_DATA_DIR`);
      }
      const report = await backupDatabase(config.database, positionals[0] ?? '', { force: flag(values, 'force') });
      const keyAt = masterKeySource(config, ctx.env);
      const together = 'file' in config.masterKey && dirname(config.masterKey.file) === dirname(report.file);
      const lines = [
        `backup written: ${report.file} (${report.bytes} bytes, ${report.format === 'sqlite' ? 'SQLite database' : 'pg_dump custom format'})`,
        `audit chain head in the backup: ${headText(report.head)}${report.head ? ` (last record ${report.head.at})` : ''}`,
        '  keep it: after a restore, `govauth audit verify --checkpoint <head>` proves the restored trail is this one',
        `this backup is useless without the master key, ${keyAt}: back it up separately; never store them together.`,
        'It holds password hashes, client secret hashes and sealed signing keys: encrypt it at rest and restrict who can read it.',
      ];
      if (together) lines.push(`WARNING: the backup is in the same directory as the master key file (${dirname(report.file)}): move one of them elsewhere`);
      return {
        json: { file: report.file, bytes: report.bytes, format: report.format, head: report.head, master_key: 'key' in config.masterKey ? { env: 'GOVAUTH_MASTER_KEY' } : { file: config.masterKey.file }, master_key_beside_backup: together },
        text: lines.join('\n'),
      };
    },
  },
  {
    name: 'restore',
    usage: 'govauth restore <file> [--force]',
    summary:
      'restore a backup into the configured database, which must not exist (SQLite) or be empty (PostgreSQL); migrates it, verifies the audit chain. --force replaces a SQLite database no server is using',
    options: { force: { type: 'boolean' } },
    positionals: ['file'],
    createsDatabase: true,
    async run({ values, positionals }, ctx) {
      const [{ verifyAuditChain }, { restoreDatabase }, { openDatabase }, { isInitialized, migrate }, { forgetAllInstances, instanceName, listLiveInstances }] = await Promise.all([auditVerify(), backups(), database(), migrations(), instances()]);
      const config = loadConfig(ctx.env);
      const target = config.database;
      const report = await restoreDatabase(target, positionals[0] ?? '', {
        force: flag(values, 'force'),
        async inUse() {
          if (!(await isInitialized(target))) return [];
          const db = await openDatabase(target, { poolSize: 1, now: ctx.now });
          try {
            return (await listLiveInstances(db)).map(instanceName);
          } finally {
            await db.close();
          }
        },
      });
      // A backup from an older govauth is brought to this version's schema.
      const applied = await migrate(target);
      const db = await ctx.db();
      // The source's server instances are not this database's: left in, commands would wait
      // for them to apply changes (src/db/instance-registry.ts) until their heartbeats aged.
      await forgetAllInstances(db);
      const chain = await verifyAuditChain(db);
      if (!chain.ok) throw new ChainBroken(`restored into ${databaseLocation(target)}, but its audit chain is BROKEN at record ${chain.brokenAt}: ${chain.problem}`);
      const head = chain.last !== undefined ? `${chain.last}:${chain.lastHash ?? ''}` : null;
      const key = await masterKeyState(config, ctx);
      const keyAt = masterKeySource(config, ctx.env);
      const keyLine = {
        matches: `master key: the one ${keyAt} matches this database`,
        missing: `master key: NONE ${keyAt}: put the master key that was in use when the backup was made there (or set GOVAUTH_MASTER_KEY) before starting the server`,
        mismatch: `master key: the one ${keyAt} does NOT match this database: its signing keys cannot be decrypted; configure the master key that was in use when the backup was made`,
        unreadable: `master key: ${key.message ?? 'unreadable'}`,
      }[key.state];
      return {
        json: { restored: report.file, into: databaseLocation(target), bytes: report.bytes, migrations_applied: applied, audit: { ok: true, records: chain.records, head }, master_key: key.state },
        text: [
          `restored ${report.file} into ${databaseLocation(target)}`,
          `migrations applied: ${applied.length ? applied.join(', ') : 'none (the backup is of this version)'}`,
          `audit chain intact: ${chain.records} records; head ${head ?? 'none'} (compare it with the head \`govauth backup\` printed)`,
          keyLine,
          'next: start the server on this database with the same master key and the same GOVAUTH_ISSUER (tokens name it), e.g. npm start or your service.',
          'Changes made after the backup are not in it: re-apply revocations, disabled clients and users, and role removals made since',
          '  (the old database\'s trail lists them: govauth audit export --since <the backup head\'s time>).',
        ].join('\n'),
      };
    },
  },
];
