// Several worker processes on one port (node:cluster): the primary prepares the database once
// (migrations, signing key, admin model), then forks the workers, restarts any that crash (with
// backoff), and on SIGTERM drains them all before exiting. Workers share nothing but the
// database; their in-memory state stays consistent through the change feed, exactly as
// separate machines do.
import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config/load-config.ts';
import { openDatabase } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { ensureAdminModel } from './governance/admin-model.ts';
import { loadMasterKey } from './keys/master-key.ts';
import { checkMasterKey, ensureSigningKeys } from './keys/signing-keys.ts';
import type { Logger } from './log/logger.ts';
import { SERVER_ENV, SERVER_V8_FLAGS } from './runtime-flags.ts';
import { systemClock } from './time/clock.ts';

export interface WorkerReady {
  readonly type: 'govauth:ready';
  readonly url: string;
  readonly issuer: string;
  readonly startupMs: number;
}

const isWorkerReady = (m: unknown): m is WorkerReady => (m as { type?: unknown } | null)?.type === 'govauth:ready';

/** One-time preparation, so workers do not race on migrations and the first key. */
async function prepareDatabase(config: Config, log: Logger): Promise<{ migrations: string[]; createdKid: string | undefined }> {
  const migrations = await migrate(config.database);
  const db = await openDatabase(config.database, { now: systemClock });
  try {
    const master = loadMasterKey(config.masterKey, log, true);
    await checkMasterKey(db, master);
    await ensureAdminModel(db);
    const { created } = await ensureSigningKeys(db, master, systemClock());
    return { migrations, createdKid: created };
  } finally {
    await db.close();
  }
}

export async function runPrimary(config: Config, log: Logger, onAllReady: (ready: WorkerReady) => void): Promise<void> {
  const started = performance.now();
  const prepared = await prepareDatabase(config, log);
  for (const name of prepared.migrations) log.info('applied migration', { name });
  if (prepared.createdKid) log.info('created signing key', { kid: prepared.createdKid });

  let stopping = false;
  let readyCount = 0;
  const restarts: number[] = [];

  const fork = (): Worker => {
    const worker = cluster.fork(SERVER_ENV);
    worker.on('message', (m: unknown) => {
      if (!isWorkerReady(m)) return;
      readyCount++;
      if (readyCount === config.workers) onAllReady({ ...m, startupMs: Math.round(performance.now() - started) });
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    log.error('worker exited unexpectedly; starting a new one', { pid: worker.process.pid, code, signal });
    const now = performance.now(); // a rate of restarts: a duration, not an instant
    restarts.push(now);
    while (restarts.length && (restarts[0] ?? 0) < now - 60_000) restarts.shift();
    if (restarts.length > 5 * config.workers) {
      log.error('workers keep crashing; giving up', { restartsLastMinute: restarts.length });
      process.exit(1);
    }
    // A replacement due after shutdown began must not start: nothing would ever stop it.
    setTimeout(() => {
      if (!stopping) fork();
    }, Math.min(5000, 100 * 2 ** Math.min(restarts.length, 6))).unref();
  });

  // Workers get the server's V8 settings even if the primary was started without them.
  const flags = SERVER_V8_FLAGS.filter((f) => !process.execArgv.some((a) => a.startsWith(f.split('=')[0] ?? f)));
  cluster.setupPrimary({ execArgv: [...process.execArgv, ...flags] });
  for (let i = 0; i < config.workers; i++) fork();

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down: draining workers', { signal, workers: Object.keys(cluster.workers ?? {}).length });
    const force = setTimeout(() => {
      log.warn('workers did not drain in time; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    const check = setInterval(() => {
      if (!Object.keys(cluster.workers ?? {}).length) {
        clearInterval(check);
        process.exit(0);
      }
    }, 50);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
