// Bundles src/main.ts into CommonJS files, dependencies inlined so start-up does not walk
// node_modules: dist/rollout.cjs with every command, and dist/<command>.cjs for the commands whose
// start matters most. bin/rollout.js runs one with a V8 code cache per command; code a command
// does not use is not run (esbuild evaluates a module reached through `import()` when it is
// imported) and, thanks to the cache, not compiled either. The large packages no fast path uses
// are bundles of their own in dist/lib/, required when first used.
//
// Files are written atomically (temp + rename): a test run in another process may be loading
// dist/ meanwhile.
import { createHash } from 'node:crypto';
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nodeBundleOptions } from './node-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// `--entry <file> --outdir <dir>`: another entry, bundled exactly as the CLI is, into its own
// bundle (dist/rollout.cjs's place) and dist/lib/: bench/floors.ts times what bin/rollout.js costs
// with nothing, or one thing, to run.
const { values: cli } = parseArgs({ options: { entry: { type: 'string' }, outdir: { type: 'string' } } });
const outdir = cli.outdir ? resolve(cli.outdir) : join(root, 'dist');
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

/**
 * An esbuild plugin that replaces one line of a dependency's file as it is bundled. The build fails
 * when the line is not there exactly once: the dependency changed, and the patch must be looked at.
 */
function patchLine(name, file, line, replacement) {
  return {
    name,
    setup(build) {
      build.onLoad({ filter: file }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (text.split(line).length !== 2) throw new Error(`${args.path}: expected \`${line}\` once; the package changed, see ${name} in scripts/build.mjs`);
        return { contents: text.replace(line, replacement), loader: 'js' };
      });
    },
  };
}

/**
 * undici's HTTP/1.1 client requires its HTTP/2 client at load, and with it `node:http2` and
 * `node:tls`: 3.4 ms of every command that makes a request. rollout never negotiates HTTP/2 (no
 * `allowH2`), so the HTTP/2 client is required when first used instead.
 */
const undiciHttp2OnUse = patchLine(
  'undici-http2-on-use',
  /[\\/]node_modules[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/,
  "const connectH2 = require('./client-h2.js')",
  "const connectH2 = (...args) => require('./client-h2.js')(...args)",
);

/**
 * commander requires `node:child_process` at load, for subcommands that are executables of their
 * own, which rollout has none of: with what it pulls in (`dgram`, sockets lists) 1.4 ms of every
 * start. It is required when first used instead.
 */
const commanderChildProcessOnUse = patchLine(
  'commander-child-process-on-use',
  /[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/,
  "const childProcess = require('node:child_process');",
  "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
);

/**
 * Packages that some runs do without, each bundled into dist/lib/<name>.cjs and required from there
 * when first used: zod words a rejected plan's problems (and serves `schema` and `init`),
 * @inquirer/prompts asks questions at a terminal, pg keeps state in PostgreSQL, yaml parses a plan
 * not in the plan cache (src/plan/plan-yaml.ts), undici makes requests (its Agent alone, imported
 * by src/net/http.ts at the first request). Even unrun, their code in a command's bundle cost
 * every start: zod's alone made `rollout validate` 5 ms slower, yaml's and undici's together
 * 3–4 ms (A/B builds, bench/README.md).
 */
const PACKAGES_ON_USE = { zod: 'zod', prompts: '@inquirer/prompts', pg: 'pg', yaml: 'yaml', undici: 'undici/lib/dispatcher/agent.js' };

/** Our imports of PACKAGES_ON_USE become requires of dist/lib/<name>.cjs, relative to the bundle. */
const packagesOnUse = {
  name: 'packages-on-use',
  setup(build) {
    const libOf = new Map(Object.entries(PACKAGES_ON_USE).map(([lib, pkg]) => [pkg, lib]));
    build.onResolve({ filter: /^[@a-z]/ }, (args) =>
      libOf.has(args.path) && args.importer.includes(`${join(root, 'src')}`) ? { path: `./lib/${libOf.get(args.path)}.cjs`, external: true } : undefined,
    );
  },
};

/**
 * chalk works out at load whether the terminal takes colour (supports-color), loading node:tty and
 * node:os: 1.2 ms of every start. rollout decides colour itself (wantsColor in src/cli/output.ts)
 * and always gives chalk the level, so that detection goes; the default `chalk` instance, which no
 * bundled code uses, would print without colour.
 */
const chalkWithoutDetection = {
  name: 'chalk-without-detection',
  setup(build) {
    build.onResolve({ filter: /^#supports-color$/ }, (args) =>
      /[\\/]node_modules[\\/]chalk[\\/]/.test(args.importer) ? { path: 'supports-color', namespace: 'chalk-without-detection' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'chalk-without-detection' }, () => ({ contents: 'export default { stdout: false, stderr: false };' }));
  },
};

/**
 * The commands whose start-up matters most (an on-call engineer's, a CI lint step's) get a bundle
 * of their own, holding only what they run: V8 then instantiates, and the code cache holds, far
 * less. Every other command runs from dist/rollout.cjs, which holds them all. bin/rollout.js
 * picks dist/<command>.cjs when there is one.
 */
const COMMAND_BUNDLES = ['validate', 'status', 'rollback'];

/**
 * In a command's own bundle, what src/cli/program.ts imports for the other commands is left out.
 * Never loaded there: bin/rollout.js runs this bundle for this command alone.
 */
function onlyCommand(command) {
  const forOtherCommands = (path) => (/^\.\.\/commands\/[a-z-]+\.js$/.test(path) && path !== `../commands/${command}.js`) || path === './init-options.js' || path === './completion.js';
  return {
    name: 'only-command',
    setup(build) {
      build.onResolve({ filter: /^\./ }, (args) =>
        args.importer.endsWith(join('src', 'cli', 'program.ts')) && forOtherCommands(args.path) ? { path: args.path, namespace: 'other-command' } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'other-command' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`${args.path} is not in the bundle of \`rollout ${command}\``)});`,
      }));
    },
  };
}

const bundleOptions = {
  absWorkingDir: root,
  entryPoints: [cli.entry ? resolve(cli.entry) : 'src/main.ts'],
  write: false,
  ...nodeBundleOptions,
  format: 'cjs',
  // bin/rollout.js reads the bundle as latin1, which only ASCII survives unchanged.
  charset: 'ascii',
  // CommonJS has no import.meta: the bundle's own file URL stands in for it.
  define: { __ROLLOUT_VERSION__: JSON.stringify(version), 'import.meta.url': '__bundleUrl' },
  // V8 runs the bundle as a script, which has no `import()`: the packages of dist/lib/ are required.
  supported: { 'dynamic-import': false },
  // The bundle is one function expression, which bin/rollout.js compiles and calls with what a
  // CommonJS module gets (wrapping it there would copy the whole source once more). Strict, as
  // the ES modules it is made of (esbuild's own "use strict" comes after the banner).
  banner: { js: '(function (exports, require, module, __filename, __dirname) { "use strict"; var __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  footer: { js: '})' },
  // Comments and indentation out: a quarter less to read and to hold in memory at every start.
  minifyWhitespace: true,
  sourcemap: 'linked',
};

/** The packages of PACKAGES_ON_USE that are CommonJS modules imported whole (`import pg from 'pg'`). */
const IMPORTED_WHOLE = new Set(['pg', 'undici/lib/dispatcher/agent.js']);

/**
 * A package of PACKAGES_ON_USE, bundled as a command's bundle is (bin/rollout.js loads it the same
 * way, with a code cache of its own), exporting what the package does.
 */
function libraryOptions(lib, pkg) {
  const { entryPoints: _commandEntry, ...options } = bundleOptions;
  return {
    ...options,
    stdin: { contents: IMPORTED_WHOLE.has(pkg) ? `module.exports = require('${pkg}');` : `export * from '${pkg}';`, resolveDir: root, loader: 'js' },
    outfile: join(outdir, 'lib', `${lib}.cjs`),
    plugins: [zodEnglishOnly, undiciHttp2OnUse],
  };
}

// undici is in dist/lib/ alone, so its patch is the library build's.
const commandPlugins = [packagesOnUse, zodEnglishOnly, chalkWithoutDetection, commanderChildProcessOnUse];
const results = await Promise.all([
  build({ ...bundleOptions, outfile: join(outdir, 'rollout.cjs'), plugins: commandPlugins }),
  ...(cli.entry ? [] : COMMAND_BUNDLES).map((command) => build({ ...bundleOptions, outfile: join(outdir, `${command}.cjs`), plugins: [...commandPlugins, onlyCommand(command)] })),
  ...Object.entries(PACKAGES_ON_USE).map(([lib, pkg]) => build(libraryOptions(lib, pkg))),
]);

mkdirSync(join(outdir, 'lib'), { recursive: true });
const outputs = results.flatMap((result) => result.outputFiles);
/**
 * A bundle's text, ASCII (esbuild escapes non-ASCII in code, not in the comments it keeps: escaped
 * there too) and opening with a digest of itself on the banner's line (the source map's lines stay
 * as they are): bin/rollout.js keeps a code cache for this very build, whatever the file's time.
 */
function bundleText(text) {
  const ascii = text.replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `/*rollout build ${createHash('sha256').update(ascii).digest('hex').slice(0, 16)}*/${ascii}`;
}

for (const file of outputs) {
  const contents = file.path.endsWith('.cjs') ? Buffer.from(bundleText(file.text), 'latin1') : file.contents;
  const temp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temp, contents);
  renameSync(temp, file.path);
}
// What earlier builds left: the ES module build's chunks, a command's bundle no longer made
// (bin/rollout.js would run it, since it exists).
const written = new Set(outputs.map((file) => relative(outdir, file.path)).concat('lib'));
for (const old of [...readdirSync(outdir), ...readdirSync(join(outdir, 'lib')).map((name) => join('lib', name))]) {
  if (!written.has(old) && !old.endsWith('.tmp')) rmSync(join(outdir, old), { recursive: true, force: true });
}
