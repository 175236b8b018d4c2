// Mutation testing of the decision core and the commit path: `npm run mutate` (not part of
// `npm test`; a full run takes several minutes). The report lands in reports/mutation/.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts' },
  mutate: [
    'src/analysis/judge.ts',
    'src/analysis/decide.ts',
    'src/analysis/run-loop.ts',
    'src/state/transitions.ts',
    'src/rollout/commit.ts',
    'src/rollout/emergency.ts',
    'src/rollout/guards.ts',
  ],
  coverageAnalysis: 'perTest',
  // clear-text lists each survivor; the JSON report is for scripts that sort them.
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: 85 },
  concurrency: 2,
  timeoutMS: 20_000,
  tempDirName: '.stryker-tmp',
};
