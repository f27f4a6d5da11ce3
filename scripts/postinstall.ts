// Runs after `npm install` / `npm ci` in this project:
// 1. generates the Prisma clients for both providers (into src/db/generated, git-ignored);
// 2. links node_modules/.bin/govauth to bin/govauth.js so `npx govauth …` runs this checkout's
//    CLI (npm links the bins of dependencies, never the project's own);
// 3. fills Node's compile cache with the server's modules (scripts/warm-compile-cache.ts), so a
//    server never loads the TypeScript stripper (src/runtime-flags.ts). Best effort: without
//    the cache the server strips its sources at start, as before.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_ENV } from '../src/runtime-flags.ts';
import { generatePrismaClients } from './generate-prisma-clients.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
generatePrismaClients(root);

const bin = join(root, 'node_modules/.bin');
mkdirSync(bin, { recursive: true });
rmSync(join(bin, 'govauth'), { force: true });
symlinkSync('../../bin/govauth.js', join(bin, 'govauth'));
try {
  execFileSync(process.execPath, [join(root, 'scripts/warm-compile-cache.ts')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NODE_COMPILE_CACHE: SERVER_ENV.NODE_COMPILE_CACHE },
  });
} catch {
  console.warn('govauth: could not fill the compile cache; the server will strip its TypeScript at start');
}
console.log('govauth: generated Prisma clients; `npx govauth --help` lists the CLI commands');
