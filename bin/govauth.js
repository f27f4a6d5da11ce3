#!/usr/bin/env node
// The govauth command. Its sources are TypeScript run by Node's built-in type stripping, which
// needs Node >= 22.18; the project pins Node 24 through the `node` package, so `npx govauth`
// (which puts node_modules/.bin first on PATH) always runs on it.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`govauth needs Node.js 24 (this is ${process.version}): run it as "npx govauth" inside the project.\n`);
  process.exit(1);
}
// The compile cache (src/runtime-flags.ts) makes each command start faster: the sources come
// stripped and compiled from disk. An operator's NODE_COMPILE_CACHE, if set, already applies.
const [{ enableCompileCache }, { fileURLToPath }] = await Promise.all([import('node:module'), import('node:url')]);
if (!process.env.NODE_COMPILE_CACHE) enableCompileCache?.(fileURLToPath(new URL('../node_modules/.cache/govauth-compile', import.meta.url)));
await import('../src/cli/main.ts');
