import { defineConfig } from 'vitest/config';

// Integration tests start real servers with real databases; two workers match the two cores
// of the CI machine. Tests that assert on wall-clock bounds keep generous margins. Workspace
// packages (packages/*) keep their tests next to them and run in the same suite.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
