// V8 settings for server processes, chosen against a cap of 256 MB RSS per process. Without
// them a worker's RSS grew to ~360 MB under load (the heap limit follows the machine's 24 GiB,
// so V8 collects the old generation lazily). The young generation's semi-space size is the
// trade-off: measured with `npm run bench:v8` (bench/README.md), 1 worker, SQLite, 6 alternating
// rounds: 4 MB 0.49× bare oidc-provider, peak 180 MB; 8 MB 0.53×, 187 MB; 16 MB 0.54×, 205 MB
// (introspection +18 % over 4 MB); 32 MB 0.54×, 222 MB. 16 MB buys nearly all of it under the cap.
// Live heap is ~30 MB; most of the RSS is code (Node, oidc-provider, Prisma's WASM compiler).
// Applied by `npm start` (package.json) and by the cluster primary to its workers.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SERVER_V8_FLAGS: readonly string[] = ['--max-semi-space-size=16', '--max-old-space-size=192'];

// Process environment for servers. argon2id (passwords; a client secret's first use) allocates
// 19 MiB per hash. glibc raises its mmap threshold after freeing such a block, so later ones come
// from the heap arenas and stay resident: 32 sign-ins grew a worker from 150 to 233 MB. A fixed
// threshold keeps big blocks mmapped and returned on free (measured: 134 -> 159 MB).
// glibc reads it at process start: `npm start` sets it, the cluster primary gives it to workers.
//
// NODE_COMPILE_CACHE: Node strips the TypeScript sources with amaro, a WebAssembly build of swc
// that stays loaded for the life of the process (~12 MB of RSS per process, measured on an idle
// server: 140 -> 127 MB). With the compile cache, sources already stripped and compiled are
// loaded from disk, and amaro is never loaded. Entries are keyed by the file's content, so an
// edited source is stripped again; `npm install` fills the cache (scripts/postinstall.ts), and an
// unwritable directory only means no cache. A value set by the operator is kept.
export const COMPILE_CACHE_DIR = 'node_modules/.cache/govauth-compile';
const projectRoot = fileURLToPath(new URL('..', import.meta.url));
export const SERVER_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '131072',
  NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(projectRoot, COMPILE_CACHE_DIR),
};
