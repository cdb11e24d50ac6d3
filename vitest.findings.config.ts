import { defineConfig } from 'vitest/config';

// The findings of issue 9 not fixed yet (docs/reliability.md, TODO(after merge)).
export default defineConfig({
  test: {
    include: ['test/reliability/findings/**/*.finding.ts'],
    maxWorkers: 1,
    testTimeout: 120_000,
  },
});
