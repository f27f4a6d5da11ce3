// Process entry: the only module that reads process.env, listens and exits.
import { ConfigError, loadConfig } from './config/load-config.ts';
import { createLogger } from './log/logger.ts';
import { startServer } from './server.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`govauth: ${err.message}\nSee .env.example for every setting.\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel });
  const started = performance.now();
  let server;
  try {
    server = await startServer(config, log);
  } catch (err) {
    log.error('govauth could not start', { err: (err as Error).message });
    process.exit(1);
  }
  for (const name of server.migrationsApplied) log.info('applied migration', { name });
  if (server.createdKid) log.info('created signing key', { kid: server.createdKid });
  const where = config.database.kind === 'sqlite' ? config.database.url.slice('file:'.length) : new URL(config.database.url).host;
  log.info('govauth ready', {
    listening: server.url,
    issuer: server.issuer,
    database: `${config.database.kind} ${where}`,
    startup_ms: Math.round(performance.now() - started),
  });
  if (config.mode !== 'production') {
    process.stdout.write(
      `\ngovauth is listening on ${server.url} (issuer ${server.issuer})\n` +
        `  discovery: ${server.issuer}/.well-known/openid-configuration\n` +
        '  next:      npx govauth init --demo   # seed the example AI governance model\n' +
        '             npx govauth client create --name my-bot --grant client_credentials --roles data-scientist\n\n',
    );
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down: draining in-flight requests', { signal });
    const force = setTimeout(() => {
      log.warn('drain timed out; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    server
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
