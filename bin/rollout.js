#!/usr/bin/env node
// CommonJS (bin/package.json says so), as is the bundle it loads: Node's ES module loader costs
// tens of milliseconds at start-up (bench/README.md). `rollout --version` answers before the
// bundle is read, writing to fd 1 directly (creating process.stdout costs about 4 ms more).
'use strict';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  require('node:fs').writeSync(1, `${require('../package.json').version}\n`);
} else {
  const bundle = loadBundle(bundleFor(argv), argv, process.env);
  bundle.exports.main(argv).then((exitCode) => {
    // A usage error (exit 2) may be a mistyped command: no cache is kept for it.
    if (exitCode !== 2) bundle.keepCache();
    process.exit(exitCode);
  });
}

/** The command's own bundle when the build made one (scripts/build.mjs), else the one of all commands. */
function bundleFor(args) {
  const fs = require('node:fs');
  const path = require('node:path');
  const verb = args.find((arg) => !arg.startsWith('-'));
  const own = verb && /^[a-z]+$/.test(verb) ? path.join(__dirname, `../dist/${verb}.cjs`) : undefined;
  return own && fs.existsSync(own) ? own : path.join(__dirname, '../dist/rollout.cjs');
}

/**
 * Runs the bundle through V8 with the compiled code of an earlier run of the same command (a V8
 * code cache), so V8 neither parses nor compiles what that run already compiled. The cache is
 * made after the first run of each command, once the command has compiled what it uses.
 */
function loadBundle(file, args, env) {
  const fs = require('node:fs');
  const path = require('node:path');
  // The bundle is ASCII (the build makes it so): latin1 decodes it three times faster than utf8.
  const source = fs.readFileSync(file, 'latin1');
  const cacheFile = cacheFileFor(file, /\/\/ rollout build ([0-9a-f]+)\n/.exec(source.slice(0, 200))?.[1] ?? 'unknown', args, env);
  let cachedData;
  try {
    if (cacheFile) cachedData = fs.readFileSync(cacheFile);
  } catch {
    // no cache yet
  }
  // The bundle is a function expression taking what a CommonJS module is given (scripts/build.mjs).
  const script = new (require('node:vm').Script)(source, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require('node:module').createRequire(file), module, file, path.dirname(file));
  return {
    exports: module.exports,
    keepCache() {
      if (!cacheFile || (cachedData && !script.cachedDataRejected)) return;
      // V8 keeps a cache for the flags it was made under, and src/net/http.ts turns on
      // --liftoff-only before the first request: the cache is made under the flags at start-up.
      require('node:v8').setFlagsFromString('--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering');
      writeCache(cacheFile, script.createCachedData());
    },
  };
}

/**
 * Where a command's code cache lives: $XDG_CACHE_HOME/rollout or ~/.cache/rollout, a directory per
 * installed copy of rollout (so two installs used in turn do not replace each other's caches) and
 * a file per command (`rollback --emergency` apart), named by all V8 checks a cache against: the
 * bundle (its build id), Node's version, the CPU architecture and Node's flags. None with
 * ROLLOUT_CODE_CACHE=off or without a home.
 */
function cacheFileFor(bundle, build, args, env) {
  const path = require('node:path');
  if (env.ROLLOUT_CODE_CACHE === 'off') return undefined;
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : env.HOME && path.join(env.HOME, '.cache');
  if (!base) return undefined;
  const verb = args.find((arg) => !arg.startsWith('-')) ?? 'none';
  const command = /^[a-z][a-z-]{0,23}$/.test(verb) ? verb : 'other';
  const mode = command === 'rollback' && args.includes('--emergency') ? '-emergency' : '';
  const flags = fnv1a(`${process.execArgv.join(' ')}|${env.NODE_OPTIONS ?? ''}`);
  return path.join(base, 'rollout', fnv1a(path.dirname(bundle)), `${command}${mode}.${build}-${process.version}-${process.arch}-${flags}.v8cache`);
}

/** A short name for a text (node:crypto would cost a module load on every start). */
function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16);
}

/**
 * Written whole (temp file, then rename), so a concurrent run reads the old cache or the new one;
 * this install's caches of the command for other builds, Node versions or flags are removed. Never fails the
 * command: without a cache, rollout only starts slower.
 */
function writeCache(file, data) {
  const fs = require('node:fs');
  const path = require('node:path');
  try {
    const dir = path.dirname(file);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, data, { mode: 0o600 });
    fs.renameSync(temp, file);
    const name = path.basename(file);
    const command = name.slice(0, name.indexOf('.') + 1);
    for (const other of fs.readdirSync(dir)) {
      if (other !== name && other.startsWith(command) && other.endsWith('.v8cache')) fs.rmSync(path.join(dir, other), { force: true });
    }
  } catch {
    // a read-only or full disk: the next run compiles again
  }
}
