// How long an operator waits: `govauth role list` (a read command) run the ways the README
// names, and a server's start until its ready line on SQLite (an empty data directory, and one
// that already holds a database). Every variant runs once per round, in alternating order, so
// a busy machine slows them alike; the report is the median wall time of each.
//
//   npx node bench/cli-bench.ts [--runs 10] [--no-npx] [--compare <another checkout>]
// --compare also runs every variant on another checkout (e.g. a git worktree of an earlier
// commit), in the same rounds: before and after under the same load.
//
// Variants of `role list`:
//   node      node_modules/.bin/node bin/govauth.js role list (or a shell alias for it)
//   path      govauth with node_modules/.bin first on PATH: the bin file through its
//             `#!/usr/bin/env node` line, so on the project's Node 24
//   .bin      ./node_modules/.bin/govauth with the shell's own PATH: its `node` may be an older
//             system Node, which runs the bin again on the project's Node 24
//   npx       npx govauth role list: npm starts, then runs the same bin
//   npm-exec  npm exec --offline -- govauth role list
// In a git worktree whose node_modules links to another checkout, npx and npm-exec run that
// checkout's bin/govauth.js (node_modules/.bin/govauth points there); the others run this one.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SERVER_ENV, SERVER_V8_FLAGS } from '../src/runtime-flags.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, 'no-npx': { type: 'boolean' }, compare: { type: 'string' } } });
const runs = Number(values.runs);
const here = fileURLToPath(new URL('..', import.meta.url));

const baseEnv = (dataDir: string): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, GOVAUTH_DATA_DIR: dataDir, NODE_ENV: 'development', GOVAUTH_PORT: '0', GOVAUTH_WORKERS: '1' };
  delete env.DATABASE_URL; // SQLite in the data directory
  delete env.GOVAUTH_MASTER_KEY;
  delete env.GOVAUTH_MASTER_KEY_FILE;
  return env;
};

/** Runs a command to its end; resolves with the wall time in ms. */
function timed(root: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

/** Starts a server as `npm start` does; resolves with the time to its ready line, then stops it. */
function startup(root: string, dataDir: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...SERVER_V8_FLAGS, join(root, 'src/main.ts')], { cwd: root, env: { ...baseEnv(dataDir), ...SERVER_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let readyAt: number | undefined;
    const onData = (d: Buffer): void => {
      output += d.toString();
      if (readyAt === undefined && output.includes('govauth is listening on')) {
        readyAt = performance.now() - started;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', () => (readyAt === undefined ? reject(new Error(`server did not start:\n${output}`)) : resolve(readyAt)));
  });
}

const dataDirs: string[] = [];
async function variantsOf(root: string, label: string): Promise<Record<string, () => Promise<number>>> {
  const bin = join(root, 'bin/govauth.js');
  const nodeBin = join(root, 'node_modules/.bin/node');
  const existing = mkdtempSync(join(tmpdir(), 'govauth-cli-bench-'));
  dataDirs.push(existing);
  const env = baseEnv(existing);
  const pathEnv = { ...env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH ?? ''}` };
  // The shell's own `node` (npx and npm scripts put node_modules/.bin first: take it out).
  const systemPath = (process.env.PATH ?? '').split(':').filter((dir) => !dir.endsWith('node_modules/.bin')).join(':');
  const roleList = ['role', 'list'];
  await timed(root, nodeBin, [bin, 'init', '--demo'], env);
  const variants: Record<string, () => Promise<number>> = {
    'role list: node bin/govauth.js': () => timed(root, nodeBin, [bin, ...roleList], env),
    'role list: govauth on PATH': () => timed(root, bin, roleList, pathEnv),
    // bin is what node_modules/.bin/govauth links to (run directly, so a worktree runs its own).
    'role list: .bin/govauth, system node': () => timed(root, bin, roleList, { ...env, PATH: systemPath }),
    ...(!values['no-npx'] && {
      'role list: npx govauth': () => timed(root, 'npx', ['govauth', ...roleList], env),
      'role list: npm exec --offline': () => timed(root, 'npm', ['exec', '--offline', '--', 'govauth', ...roleList], env),
    }),
    'server start: empty data dir': async () => {
      const empty = mkdtempSync(join(tmpdir(), 'govauth-cli-bench-'));
      try {
        return await startup(root, empty);
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    },
    'server start: existing data dir': () => startup(root, existing),
  };
  return Object.fromEntries(Object.entries(variants).map(([name, run]) => [label ? `${name} [${label}]` : name, run]));
}

const variants = {
  ...(await variantsOf(here, values.compare ? 'this' : '')),
  ...(values.compare && (await variantsOf(values.compare, 'compare'))),
};
const times = new Map<string, number[]>(Object.keys(variants).sort().map((k) => [k, []]));
const failed = new Map<string, string>(); // a variant that fails once (e.g. an old Node) is dropped
try {
  for (let round = 0; round < runs; round++) {
    const names = Object.keys(variants).sort().filter((name) => !failed.has(name)); // with --compare: each variant on both checkouts, side by side
    if (round % 2) names.reverse();
    for (const name of names) {
      await (variants[name] as () => Promise<number>)().then(
        (ms) => times.get(name)?.push(ms),
        (err: unknown) => failed.set(name, (err as Error).message.trim().split('\n').slice(0, 2).join(' ')),
      );
    }
  }
} finally {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
console.log(`${runs} alternating rounds; wall time in ms`);
console.log(`${'variant'.padEnd(46)} ${'median'.padStart(7)} ${'min'.padStart(7)} ${'max'.padStart(7)}`);
for (const [name, xs] of times) {
  if (failed.has(name)) {
    console.log(`${name.padEnd(46)} fails: ${failed.get(name)}`);
    continue;
  }
  console.log(`${name.padEnd(46)} ${median(xs).toFixed(0).padStart(7)} ${Math.min(...xs).toFixed(0).padStart(7)} ${Math.max(...xs).toFixed(0).padStart(7)}`);
}
