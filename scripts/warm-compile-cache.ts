// Run by scripts/postinstall.ts with NODE_COMPILE_CACHE set (see src/runtime-flags.ts): loads
// every module under src/ without starting anything, so Node strips and compiles them once and
// keeps the result. Servers and CLI commands started afterwards load them from the cache and
// never load the TypeScript stripper. Every module, not just the server's graph: each CLI
// command imports its own modules when it runs (src/cli/main.ts), so without them here the
// first run of each command would strip its sources (measured: role list 270 ms cold, 150 warm).
import { readdirSync } from 'node:fs';
import { flushCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

const src = new URL('../src/', import.meta.url);
// libsql's embedded client first, as the server and the CLI load it (load-sqlite-client.ts).
await (await import('../src/db/load-sqlite-client.ts')).loadSqliteClient();
const modules = readdirSync(fileURLToPath(src), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts') && !f.startsWith('db/generated/'))
  .concat('db/generated/sqlite/client.ts', 'db/generated/postgresql/client.ts');
// Entry points run nothing when imported (import.meta.main; the CLI checks its argv).
await Promise.all(modules.map((f) => import(new URL(f, src).href)));
flushCompileCache();
