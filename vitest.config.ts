import { defineConfig } from 'vitest/config';

// Integration tests start real servers with real databases; two workers match the two cores
// of the CI machine. Tests that assert on wall-clock bounds keep generous margins.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
