// One govauth server of a given checkout, for bench/compare-commits.ts: `node
// bench/lib/commit-server.ts <checkout root>` builds that checkout's own bench fixture (a fresh
// database migrated and filled by that checkout's CLI, its bot client) and starts that
// checkout's server with one worker and the shipped V8 settings, then prints one line,
// `commit-server ready {"url":…,"client_id":…,"client_secret":…}`. SIGTERM or SIGINT stops the
// server and drops the database. Each side of a comparison so runs only its own code: the
// load generator, which must be the same for both, stays in the comparing process.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The part of bench/lib/govauth-fixture.ts this needs, as every checkout since it exists has it. */
interface CheckoutFixture {
  readonly bot: { client_id: string; client_secret: string };
  start(extraEnv?: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }>;
  drop(): Promise<void>;
}

const root = process.argv[2];
if (!root) throw new TypeError('usage: node bench/lib/commit-server.ts <checkout root>');
const { createFixture } = (await import(pathToFileURL(join(root, 'bench/lib/govauth-fixture.ts')).href)) as { createFixture: () => Promise<CheckoutFixture> };

const fixture = createFixture();
const server = fixture.then((f) => f.start({ GOVAUTH_WORKERS: '1' }));
let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Whatever was started is stopped, even when the signal came while it was starting.
  await (await server.catch(() => undefined))?.stop();
  await (await fixture.catch(() => undefined))?.drop();
  process.exit(code);
}
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(130));

try {
  const [{ bot }, { url }] = await Promise.all([fixture, server]);
  console.log(`commit-server ready ${JSON.stringify({ url, client_id: bot.client_id, client_secret: bot.client_secret })}`);
} catch (err) {
  console.error(err);
  await shutdown(1);
}
