// Checkouts of other commits for bench/compare-commits.ts: a detached, temporary git worktree per
// commit, runnable like this one. Dependencies are not part of a commit's tree: node_modules is a
// symlink to this checkout's (both sides then run the same installed packages, so a comparison
// across a package.json change measures code only), and the generated Prisma clients are copied
// from this checkout, or generated in the worktree when the Prisma schema differs.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPILE_CACHE_DIR } from '../../src/runtime-flags.ts';
import { generatePrismaClients } from '../../scripts/generate-prisma-clients.ts';

export interface Checkout {
  /** What was asked for: a commit-ish, or WORKTREE for this checkout as it is on disk. */
  readonly label: string;
  /** The commit (WORKTREE: HEAD, plus whatever is uncommitted). */
  readonly commit: string;
  readonly root: string;
  /** Removes a temporary worktree; nothing for WORKTREE. Safe to call twice. */
  remove(): void;
}

export const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

export function describeCommit(root: string, commit: string): string {
  return git(root, 'log', '-1', '--format=%h %s', commit);
}

/** This checkout as it is on disk, uncommitted changes included. */
export function currentCheckout(root: string): Checkout {
  return { label: 'WORKTREE', commit: git(root, 'rev-parse', 'HEAD'), root, remove: () => undefined };
}

/** A temporary detached worktree of `ref`, with this checkout's node_modules and Prisma clients. */
export function temporaryCheckout(root: string, ref: string): Checkout {
  const commit = git(root, 'rev-parse', '--verify', `${ref}^{commit}`);
  const parent = mkdtempSync(join(tmpdir(), 'govauth-compare-'));
  const dir = join(parent, commit.slice(0, 12));
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    try {
      git(root, 'worktree', 'remove', '--force', dir);
    } catch {
      // Not registered (add failed) or already gone: the directory below is all that is left.
    }
    rmSync(parent, { recursive: true, force: true });
    git(root, 'worktree', 'prune');
  };
  try {
    git(root, 'worktree', 'add', '--detach', dir, commit);
    if (!existsSync(join(dir, 'bench/lib/govauth-fixture.ts'))) throw new Error(`${ref} has no bench/lib/govauth-fixture.ts: compare against a later commit`);
    symlinkSync(realpathSync(join(root, 'node_modules')), join(dir, 'node_modules'));
    const sameSchema = git(root, 'diff', '--name-only', commit, '--', 'prisma/') === '';
    if (sameSchema) cpSync(join(root, 'src/db/generated'), join(dir, 'src/db/generated'), { recursive: true });
    else generatePrismaClients(dir);
    return { label: ref, commit, root: dir, remove };
  } catch (err) {
    remove();
    throw err;
  }
}

/**
 * Loads a checkout's server modules once with the compile cache on (its own
 * scripts/warm-compile-cache.ts, when it has one), so neither side's first server strips its
 * TypeScript at start while the other's loads it from the cache.
 */
export function warmCompileCache(checkout: Checkout): void {
  const script = join(checkout.root, 'scripts/warm-compile-cache.ts');
  if (!existsSync(script)) return;
  // The directory the checkout's servers will use (its src/runtime-flags.ts: under node_modules,
  // which both sides share, unless the environment names one).
  const cacheDir = process.env.NODE_COMPILE_CACHE ?? join(checkout.root, COMPILE_CACHE_DIR);
  execFileSync(process.execPath, [script], { cwd: checkout.root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_COMPILE_CACHE: cacheDir } });
}
