// Bundles src/main.ts into dist/: one small entry, each command a lazily loaded chunk,
// dependencies inlined so start-up does not walk node_modules.
//
// Files are written atomically (temp + rename), chunks before the entry, and old chunks are only
// removed once they are stale: a test run in another process may be loading dist/ meanwhile.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBundleOptions } from './node-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

/**
 * zod re-exports all its ~50 message locales (`z.locales`, 358 KB of the bundle) and esbuild keeps
 * them, since `z` is used as a namespace object; only English is ever configured. Every command
 * that loads a plan compiled them: about 30 ms of `rollout validate` (bench/README.md).
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'zod-english-only' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: root,
    }));
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: { rollout: 'src/main.ts' },
  outdir,
  write: false,
  ...nodeBundleOptions,
  splitting: true,
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  define: { __ROLLOUT_VERSION__: JSON.stringify(version) },
  plugins: [zodEnglishOnly],
});

const entry = join(outdir, 'rollout.js');
const files = result.outputFiles.sort((a, b) => Number(a.path === entry) - Number(b.path === entry));
for (const file of files) {
  mkdirSync(dirname(file.path), { recursive: true });
  const temp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temp, file.contents);
  renameSync(temp, file.path);
}

const written = new Set(files.map((f) => relative(outdir, f.path)));
const STALE_MS = 10 * 60_000;
for (const name of readdirSync(join(outdir, 'chunks'))) {
  const path = join(outdir, 'chunks', name);
  if (!written.has(join('chunks', name)) && Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { force: true });
}
