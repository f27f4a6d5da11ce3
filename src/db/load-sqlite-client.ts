// Loads sqlite-client.ts (libsql for Prisma and the migrator) without libsql's network clients.
// `@libsql/client` also carries the remote protocols (Hrana over WebSocket and HTTP): importing
// it loads ws, a fetch polyfill and, through `import http from 'http'`, Node's whole undici
// (~30 ms of the ~210 ms of CPU a `govauth role list` took; bench/cli-bench.ts). govauth opens
// only `file:` databases (config/load-config.ts), which `@libsql/client` hands to the same
// embedded client `@libsql/client/sqlite3` exports: so while sqlite-client.ts and
// @prisma/adapter-libsql (which imports `@libsql/client` for a createClient that GovauthLibSQL
// overrides) are loaded, that specifier resolves to the embedded client alone. The hook is
// removed once they are loaded; a process that loaded them otherwise is unaffected.
import { registerHooks } from 'node:module';

export async function loadSqliteClient() {
  const hooks = registerHooks({
    resolve: (specifier, context, next) => next(specifier === '@libsql/client' ? '@libsql/client/sqlite3' : specifier, context),
  });
  try {
    return await import('./sqlite-client.ts');
  } finally {
    hooks.deregister();
  }
}
