// The esbuild options every Node bundle of this repository shares (the CLI in scripts/build.mjs,
// the benchmarks in bench/run.mjs).
export const nodeBundleOptions = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  // pg optionally requires pg-native; we never use it.
  external: ['pg-native'],
  // Bundled CommonJS dependencies (cli-table3, pg, parse-prometheus-text-format) call require().
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
};
