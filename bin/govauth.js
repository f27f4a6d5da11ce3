#!/usr/bin/env node
// The govauth command. Its sources are TypeScript run by Node's built-in type stripping, which
// needs Node >= 22.18; the project pins Node 24 through the `node` package, so `npx govauth`
// (which puts node_modules/.bin first on PATH) always runs on it.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`govauth needs Node.js 24 (this is ${process.version}): run it as "npx govauth" inside the project.\n`);
  process.exit(1);
}
await import('../src/cli/main.ts');
