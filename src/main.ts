// Process entry: the only module that reads process.env, listens and exits. With
// GOVAUTH_WORKERS > 1 this process becomes the cluster primary and each worker runs the server.
import cluster from 'node:cluster';
import type { Config } from './config/load-config.ts';
import { ConfigError, loadConfig } from './config/load-config.ts';
import { runPrimary, type WorkerReady } from './cluster.ts';
import { createLogger, type Logger } from './log/logger.ts';
import { processLogDestination } from './log/log-destination.ts';
import { startServer } from './server.ts';
import { groupMetrics, workerMetrics } from './metrics/cluster-metrics.ts';
import { registrySource, type MetricsSource } from './metrics/http-metrics.ts';
import { startMetricsServer } from './metrics/metrics-server.ts';
import { systemClock } from './time/clock.ts';

/**
 * The metrics listener (GOVAUTH_METRICS_LISTEN), in the single process or the cluster primary.
 * An address in use stops a production start (the operator asked for it there); in
 * development it is a warning, so two local servers can run side by side.
 */
async function serveMetrics(config: Config, log: Logger, source: MetricsSource): Promise<{ close(): Promise<void> } | undefined> {
  const listen = config.metrics.listen;
  if (!listen) return undefined;
  try {
    const server = await startMetricsServer(listen, source, (err) => log.warn('metrics scrape failed', { err: err.message }));
    log.info('metrics listening', { url: server.url });
    return server;
  } catch (err) {
    const message = `metrics cannot listen on ${listen.host}:${listen.port} (GOVAUTH_METRICS_LISTEN): ${(err as Error).message}`;
    if (config.mode === 'production') throw new Error(`${message}; set another address, or off`, { cause: err });
    log.warn(`${message}; serving without a metrics listener`);
    return undefined;
  }
}

function banner(config: Config, log: Logger, ready: WorkerReady): void {
  const where = config.database.kind === 'sqlite' ? config.database.url.slice('file:'.length) : new URL(config.database.url).host;
  log.info('govauth ready', {
    listening: ready.url,
    issuer: ready.issuer,
    database: `${config.database.kind} ${where}`,
    workers: config.workers,
    startup_ms: ready.startupMs,
  });
  // Deliberately open: anyone who can reach /reg can register a client (RFC 7591 §3 without an
  // initial access token). The trust policy still caps such clients; say it where operators look.
  if (config.selfRegistration.dynamicRegistration === 'open') {
    log.warn('GOVAUTH_DYNAMIC_REGISTRATION=open: ANYONE can register a client at /reg without an initial access token; such clients are unvetted and held to the trust policy (govauth client trust-policy). Use token to require a token from an administrator.');
  }
  if (config.selfRegistration.metadataDocuments) log.info('client ID metadata documents accepted: unvetted clients are held to the trust policy (govauth client trust-policy)');
  if (config.mode !== 'production') {
    process.stdout.write(
      `\ngovauth is listening on ${ready.url} (issuer ${ready.issuer})\n` +
        `  discovery: ${ready.issuer}/.well-known/openid-configuration\n` +
        '  next:      npx govauth init --demo   # seed the example AI governance model\n' +
        '             npx govauth client create --name my-bot --grant client_credentials --roles data-scientist\n\n',
    );
  }
}

/** Runs one server in this process (single-process mode, or a cluster worker). */
async function serve(config: Config, log: Logger): Promise<void> {
  const started = performance.now();
  let server;
  let metricsServer: { close(): Promise<void> } | undefined;
  try {
    server = await startServer(config, log, { now: systemClock, ...(cluster.isWorker && { metricsSource: workerMetrics }) });
    if (!cluster.isWorker) metricsServer = await serveMetrics(config, log, registrySource(server.metrics));
  } catch (err) {
    log.error('govauth could not start', { err: (err as Error).message });
    process.exit(1);
  }
  const ready: WorkerReady = { type: 'govauth:ready', url: server.url, issuer: server.issuer, startupMs: Math.round(performance.now() - started) };
  if (cluster.isWorker) {
    process.send?.(ready);
  } else {
    for (const name of server.migrationsApplied) log.info('applied migration', { name });
    if (server.createdKid) log.info('created signing key', { kid: server.createdKid });
    banner(config, log, ready);
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down: draining in-flight requests', { signal, pid: process.pid });
    const force = setTimeout(() => {
      log.warn('drain timed out; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    Promise.all([server.close(), metricsServer?.close()])
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`govauth: ${err.message}\nSee .env.example for every setting.\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel, base: cluster.isWorker ? { worker: cluster.worker?.id } : undefined, destination: processLogDestination() });
  if (config.workers > 1 && cluster.isPrimary) {
    // The group's metrics: served by the primary's listener, and forwarded to a worker that
    // is scraped on the main port (GOVAUTH_METRICS_TOKEN). Listening first fails before forking.
    const group = groupMetrics(log);
    await serveMetrics(config, log, group)
      .then(() => runPrimary(config, log, (ready) => banner(config, log, ready)))
      .catch((err: unknown) => {
        log.error('govauth could not start', { err: (err as Error).message });
        process.exit(1);
      });
    return;
  }
  await serve(config, log);
}

// Imported without running by the compile-cache warm-up (scripts/postinstall.ts).
if (import.meta.main) await main();
