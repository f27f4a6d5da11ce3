// Run by scripts/postinstall.ts with NODE_COMPILE_CACHE set (see src/runtime-flags.ts): loads
// the server's modules, including those the server imports lazily, without starting anything,
// so Node strips and compiles them once and keeps the result. Servers started afterwards load
// them from the cache and never load the TypeScript stripper.
import { flushCompileCache } from 'node:module';

await import('../src/main.ts'); // runs nothing when imported (import.meta.main)
await Promise.all([
  import('../src/db/generated/sqlite/client.ts'),
  import('../src/db/generated/postgresql/client.ts'),
  import('../src/db/sqlite-client.ts'),
]);
flushCompileCache();
