import { defineConfig } from 'vitest/config';

// The in-process tests of the decision core and the commit path, which StrykerJS runs against
// each mutant (`npm run mutate`). The end-to-end tests run the built dist/, which mutants never reach.
export default defineConfig({
  test: {
    include: ['test/analysis/**/*.test.ts', 'test/rollout/**/*.test.ts', 'test/state/transitions.test.ts', 'test/commands/in-process/**/*.test.ts'],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
