#!/usr/bin/env node
// CommonJS (bin/package.json says so), as is the bundle it loads: Node's ES module loader costs
// tens of milliseconds at start-up (bench/README.md). `rollout --version` answers before the
// bundle is read, writing to fd 1 directly (creating process.stdout costs about 4 ms more).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

/** The command's own bundle when the build made one (scripts/build.mjs), else the one of all commands. */
function bundleFor(verb) {
  const own = verb && /^[a-z]+$/.test(verb) ? path.join(__dirname, `../dist/${verb}.cjs`) : undefined;
  return own && fs.existsSync(own) ? own : path.join(__dirname, '../dist/rollout.cjs');
}

/**
 * Which caches a run's compiled code is worth keeping for the command's next runs: none after
 * help or the version (they compile little of the command) or an interrupted run (it stopped part
 * way); after a usage error (perhaps a mistyped command) only those of the packages of dist/lib/
 * it loaded, which it used whole (zod words a plan's problems); otherwise all.
 */
function cachesWorthKeeping(args, verb, exitCode) {
  const asksForHelp = verb === 'help' || args.some((arg) => ['-h', '--help', '-V', '--version'].includes(arg));
  if (asksForHelp || exitCode === 130) return 'none';
  return exitCode === 2 ? 'libraries' : 'all';
}

/**
 * Runs the bundle through V8 with the compiled code of an earlier run of the same command (a V8
 * code cache, see the README), so V8 neither parses nor compiles what that run compiled. The
 * cache is made after the first run of each command, once the command has compiled what it uses.
 * The packages the bundle requires from dist/lib/ (scripts/build.mjs) are bundles run the same
 * way, each with a cache of its own for the command.
 */
function loadBundle(file, cacheFile) {
  const runs = [];
  const libraries = new Map();
  const nodeRequire = require('node:module').createRequire(file);
  const bundleRequire = (id) => {
    if (!id.startsWith('./lib/')) return nodeRequire(id);
    if (!libraries.has(id)) libraries.set(id, run(path.join(path.dirname(file), id), cacheFile && libraryCacheFile(cacheFile, path.basename(id, '.cjs'))));
    return libraries.get(id);
  };
  const run = (bundleFile, bundleCacheFile) => {
    // Read through one descriptor: the identity the cache is checked against is the file's read.
    const fd = fs.openSync(bundleFile, 'r');
    let source;
    let identity;
    try {
      const info = fs.fstatSync(fd);
      // The bundle is ASCII (the build makes it so): latin1 decodes it three times faster than utf8.
      source = fs.readFileSync(fd, 'latin1');
      // The build's digest of the bundle (scripts/build.mjs): a new build is seen even when its file
      // has the old one's size, time (npm sets every file's to 1985) and inode.
      identity = `${info.size}:${info.mtimeMs}:${info.ino}:${/^\/\*rollout build ([0-9a-f]+)\*\//.exec(source)?.[1] ?? 'none'}`;
    } finally {
      fs.closeSync(fd);
    }
    const cachedData = bundleCacheFile && readCache(bundleCacheFile, identity);
    // The bundle is a function expression taking what a CommonJS module is given (scripts/build.mjs).
    const { Script } = require('node:vm');
    const script = cachedData ? withChecksums(() => new Script(source, { filename: bundleFile, cachedData })) : new Script(source, { filename: bundleFile });
    runs.push({ script, cacheFile: bundleCacheFile, identity, cached: Boolean(cachedData), library: bundleFile !== file });
    const module = { exports: {} };
    script.runInThisContext()(module.exports, bundleRequire, module, bundleFile, path.dirname(bundleFile));
    return module.exports;
  };
  return {
    exports: run(file, cacheFile),
    /** The command's bundle as its caches are keyed: size, time, inode and the build's digest. */
    identity: runs[0].identity,
    /**
     * Writes the caches of the bundles run ('all'), or of those of dist/lib/ ('libraries'), that had
     * none or a rejected one, and runs `alsoWrite` (the plan cache's write), if any.
     */
    keepCaches(which, alsoWrite) {
      const toWrite = runs.filter((r) => (which === 'all' || (which === 'libraries' && r.library)) && r.cacheFile && (!r.cached || r.script.cachedDataRejected));
      if (toWrite.length === 0 && !alsoWrite) return;
      // A stop signal now would end the process before its exit code is set: the command has
      // ended, so a signal waits the few milliseconds the writing takes.
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => undefined);
      alsoWrite?.();
      for (const r of toWrite) writeCache(r.cacheFile, r.identity, withChecksums(() => r.script.createCachedData()));
    },
  };
}

/**
 * Where the command keeps the YAML of the last plan it read, parsed (src/plan/parse-cache.ts says
 * what is kept and when it is used): beside its code cache, read and written under the same rules
 * (a private directory, a whole file, this very build), so a new build parses every plan again.
 * Written once the command has ended, with the code caches: a slow or stuck cache directory must
 * never hold up a command, least of all an emergency rollback's request.
 */
function planCache(commandCacheFile, identity) {
  const file = commandCacheFile.replace(/\.v8cache$/, '.plan');
  let kept;
  return {
    read: () => readCache(file, identity),
    write: (data) => {
      kept = data;
    },
    /** The write the command asked for, to make when it has ended; undefined if none. */
    pendingWrite: () => kept && (() => writeCache(file, identity, kept)),
  };
}

/** The cache of a package of dist/lib/ for a command: `validate+zod.<node>-<arch>-<flags>.v8cache` beside `validate.…`. */
function libraryCacheFile(commandCacheFile, library) {
  const name = path.basename(commandCacheFile);
  const dot = name.indexOf('.');
  return path.join(path.dirname(commandCacheFile), `${name.slice(0, dot)}+${library}${name.slice(dot)}`);
}

/**
 * Where a command's code cache lives: $XDG_CACHE_HOME/rollout or ~/.cache/rollout, a directory per
 * installed copy of rollout (so two installs used in turn do not replace each other's caches) and
 * a file per command (`rollback --emergency` apart) and Node version, CPU and Node flags, all of
 * which V8 checks a cache against. None with ROLLOUT_CODE_CACHE=off or without an absolute home.
 */
function cacheFileFor(args, verb, env) {
  if (env.ROLLOUT_CODE_CACHE === 'off') return undefined;
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : env.HOME && path.isAbsolute(env.HOME) && path.join(env.HOME, '.cache');
  if (!base) return undefined;
  const command = verb === undefined ? 'none' : /^[a-z][a-z-]{0,23}$/.test(verb) ? verb : 'other';
  const mode = command === 'rollback' && args.includes('--emergency') ? '-emergency' : '';
  const flags = fnv1a(`${process.execArgv.join(' ')}|${env.NODE_OPTIONS ?? ''}`);
  return path.join(base, 'rollout', fnv1a(path.join(__dirname, '..')), `${command}${mode}.${process.version}-${process.arch}-${flags}.v8cache`);
}

/** A short name for a text. */
function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16);
}

/** The largest cache kept: a command's is about 1 MB. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;
/** A cache file: this line, naming the bundle file it was made for, then V8's data. */
const cacheHeader = (identity) => `rollout code cache 2 ${identity}\n`;

/**
 * Runs `work`, the reading or making of a code cache, under the V8 flags the process started with
 * (V8 keeps a cache for the flags it was made under) and with V8 checking, or computing, the
 * checksum of a cache's data, which release builds of V8 leave off: damaged data has crashed V8 or
 * run wrong code. Afterwards the checksum flag is off again (V8 keys Node's own caches of its
 * built-ins by the flags too) and the flags the bundle set at run time are set again: those
 * src/net/http.ts records under Symbol.for('rollout.runtimeV8Flags'), with their start-up values.
 */
function withChecksums(work) {
  const v8 = require('node:v8');
  const runtime = process[Symbol.for('rollout.runtimeV8Flags')];
  v8.setFlagsFromString(`--verify-snapshot-checksum ${runtime?.startUp ?? ''}`);
  try {
    return work();
  } finally {
    v8.setFlagsFromString(`--no-verify-snapshot-checksum ${runtime?.set ?? ''}`);
  }
}

/**
 * The cache's data, when it was made for this very bundle file and is whole; undefined otherwise.
 * A cache directory someone else could write to is not trusted, and only a regular file of ours,
 * not too large, is read (a FIFO would block, a device never end).
 */
function readCache(file, identity) {
  let fd;
  try {
    if (!isPrivateDirectory(path.dirname(file))) return undefined;
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const info = fs.fstatSync(fd);
    if (!info.isFile() || info.uid !== process.getuid?.() || info.size > MAX_CACHE_BYTES) return undefined;
    const bytes = fs.readFileSync(fd);
    const end = bytes.indexOf(10);
    const data = bytes.subarray(end + 1);
    return end > 0 && bytes.toString('latin1', 0, end + 1) === cacheHeader(identity) ? data : undefined;
  } catch {
    return undefined; // none yet, or unreadable: the command compiles as without a cache
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** A directory owned by this user that no one else may write to. */
function isPrivateDirectory(dir) {
  const info = fs.lstatSync(dir);
  return info.isDirectory() && info.uid === process.getuid?.() && (info.mode & 0o022) === 0;
}

/** How long a temp file may have been left (a process killed while writing) before it goes. */
const STALE_TEMP_MS = 10 * 60_000;

/**
 * Written whole (a new temp file, then rename), so a concurrent run reads the old cache or the new
 * one; this install's caches of the command for another bundle are removed, and temp files left
 * by killed runs. Never fails the command: without a cache, rollout only starts slower.
 */
function writeCache(file, identity, data) {
  const dir = path.dirname(file);
  const temp = `${file}.${process.pid}.tmp`;
  let tempMade = false;
  try {
    // One level at a time (not `recursive`, which loops forever on some paths, e.g. under /proc).
    for (const level of [path.dirname(path.dirname(dir)), path.dirname(dir), dir]) {
      try {
        fs.mkdirSync(level, { mode: 0o700 });
      } catch (err) {
        if (err.code !== 'EEXIST') throw err;
      }
    }
    if (!isPrivateDirectory(dir)) return;
    // 'wx': a file (or a link) already there under this name is an error, never written through.
    const fd = fs.openSync(temp, 'wx', 0o600);
    tempMade = true;
    try {
      fs.writeFileSync(fd, Buffer.concat([Buffer.from(cacheHeader(identity), 'latin1'), data]));
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
    tempMade = false;
    const name = path.basename(file);
    const command = name.slice(0, name.indexOf('.') + 1);
    for (const other of fs.readdirSync(dir)) {
      const otherPath = path.join(dir, other);
      const staleTemp = other.endsWith('.tmp') && Date.now() - fs.lstatSync(otherPath).mtimeMs > STALE_TEMP_MS;
      if (staleTemp || (other !== name && other.startsWith(command) && /\.(v8cache|plan)$/.test(other) && isOtherBundle(otherPath, identity))) fs.rmSync(otherPath, { force: true });
    }
  } catch {
    // a read-only or full disk: the next run compiles again
    if (tempMade) fs.rmSync(temp, { force: true });
  }
}

/** A cache made for another bundle (an earlier build, or a damaged file): of no use any more. */
function isOtherBundle(file, identity) {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    const head = Buffer.alloc(200);
    const line = head.toString('latin1', 0, fs.readSync(fd, head, 0, head.length, 0));
    return !line.startsWith(cacheHeader(identity));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The version, written to fd 1 (creating process.stdout costs more than the rest): a reader that
 * left (`| true`) is no error, a full non-blocking pipe waits in Node's stream, any other failure
 * (a full disk) is said on stderr, exit 1, as src/stdio.ts does for the commands.
 */
function printVersion(line) {
  try {
    fs.writeSync(1, line);
  } catch (err) {
    if (err.code === 'EAGAIN') process.stdout.write(line);
    else if (err.code !== 'EPIPE') {
      process.stderr.write(`error: cannot write stdout: ${err.message}\nhint: free space where it goes, or send it elsewhere\n`);
      process.exitCode = 1;
    }
  }
}

// Last, once every constant above is defined.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  printVersion(`${require('../package.json').version}\n`);
} else {
  // The command: the first word that is not an option (rollout's own options take no value).
  const verb = argv.find((arg) => !arg.startsWith('-'));
  const cacheFile = cacheFileFor(argv, verb, process.env);
  const bundle = loadBundle(bundleFor(verb), cacheFile);
  const plans = cacheFile && planCache(cacheFile, bundle.identity);
  if (plans) process[Symbol.for('rollout.planCache')] = plans;
  // Node exits 0 once nothing is left to run, even with the command unfinished (a promise nothing
  // will settle, a bug): a CI step must never read that as success.
  const unfinished = () => {
    process.stderr.write('error: rollout stopped before its command finished\nhint: this is a bug in rollout; rerun with ROLLOUT_DEBUG=1 and report the output\n');
    process.exit(1);
  };
  process.once('beforeExit', unfinished);
  bundle.exports.main(argv).then((exitCode) => {
    process.off('beforeExit', unfinished);
    const which = cachesWorthKeeping(argv, verb, exitCode);
    bundle.keepCaches(which, which === 'none' ? undefined : plans?.pendingWrite());
    process.exit(exitCode);
  });
}
