// Generates both providers' Prisma clients (src/db/generated, git-ignored) for the checkout at
// `root`, with that checkout's schema: npm's postinstall (scripts/postinstall.ts) and the bench's
// checkouts of other commits (bench/lib/commit-checkouts.ts).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export function generatePrismaClients(root: string): void {
  for (const provider of ['sqlite', 'postgresql']) {
    execFileSync(join(root, 'node_modules/.bin/prisma'), ['generate'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        PRISMA_PROVIDER: provider,
        // generate reads no database, but Prisma 6 resolves env("DATABASE_URL") to pick its
        // engine and otherwise tries to download a native one.
        DATABASE_URL: provider === 'sqlite' ? 'file:./unused.db' : 'postgresql://localhost/unused',
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
      },
    });
  }
}
