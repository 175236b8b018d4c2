// Bundles src/main.ts into dist/: one small entry, each command a lazily loaded chunk,
// dependencies inlined so start-up does not walk node_modules.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { rollout: 'src/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  // pg optionally requires pg-native; we never use it.
  external: ['pg-native'],
  // CommonJS dependencies (cli-table3, pg) call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  define: { __ROLLOUT_VERSION__: JSON.stringify(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version) },
  logLevel: 'warning',
});
