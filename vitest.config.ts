import { defineConfig } from 'vitest/config';

// Integration tests start real servers with real databases; two workers match the two cores
// of the CI machine. Tests that assert on wall-clock bounds keep generous margins. Workspace
// packages (packages/*) keep their tests next to them and run in the same suite.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // One migrated template database per run; test servers start from copies of it.
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    // A worker reuses its module graph from one test file to the next instead of importing
    // oidc-provider, Prisma and the app again per file: the suite's import time fell from about
    // 43 s to 8 s for test/unit + test/security, and their wall time by half. Safe because tests
    // share no module state: every server, database, clock and registry is made per test file.
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
