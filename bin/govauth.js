#!/usr/bin/env node
// The govauth command. Its sources are TypeScript run by Node's built-in type stripping, which
// needs Node >= 22.18; the project pins Node 24 through the `node` package, so `npx govauth`
// (which puts node_modules/.bin first on PATH) always runs on it.
// Started by an older Node (`./node_modules/.bin/govauth` or an alias, where the shell's `node` is
// the system's), it runs itself again on the project's Node 24, which costs that older Node's
// start (~40 ms) instead of npm's (~600 ms); README "The govauth CLI".
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const [{ spawnSync }, { existsSync }, { fileURLToPath }] = await Promise.all([import('node:child_process'), import('node:fs'), import('node:url')]);
  const projectNode = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (existsSync(projectNode) && projectNode !== process.execPath) {
    const run = spawnSync(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
    if (run.signal) process.kill(process.pid, run.signal);
    process.exit(run.status ?? 1);
  }
  process.stderr.write(`govauth needs Node.js 24 (this is ${process.version}): run it as "npx govauth" inside the project.\n`);
  process.exit(1);
}
// The compile cache (src/runtime-flags.ts) makes each command start faster: the sources come
// stripped and compiled from disk. An operator's NODE_COMPILE_CACHE, if set, already applies.
const [{ enableCompileCache }, { fileURLToPath }] = await Promise.all([import('node:module'), import('node:url')]);
if (!process.env.NODE_COMPILE_CACHE) enableCompileCache?.(fileURLToPath(new URL('../node_modules/.cache/govauth-compile', import.meta.url)));
await import('../src/cli/main.ts');
