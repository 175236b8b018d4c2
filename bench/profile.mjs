// Where a rollout command's start-up time goes: runs `rollout <args>` several times under
// `node --cpu-prof` and adds up the CPU samples by where their code came from, through the source
// maps of dist/: a bundled dependency by package name, our code by file. A sample in Node's own
// code counts for the bundled code that called it (so undici's figure includes the Node modules it
// loads); what no bundled code called is V8 compiling the bundle, garbage collection, or Node's
// own start-up and module loading. One run's profile is noisy on a
// shared machine (a sample taken after the process waited for a CPU carries the wait), so the
// figures are medians over the runs. Used to explain the start-up misses in bench/README.md.
//
//   node bench/profile.mjs [--runs N] [--cwd DIR] [--env NAME=VALUE]... -- <rollout args>
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const split = argv.indexOf('--');
if (split < 0) {
  console.error('usage: node bench/profile.mjs [--runs N] [--cwd DIR] [--env NAME=VALUE]... -- <rollout args>');
  process.exit(2);
}
const options = argv.slice(0, split);
const args = argv.slice(split + 1);
const option = (name) => options.flatMap((v, i) => (v === name && options[i + 1] !== undefined ? [options[i + 1]] : []));
const runs = Number(option('--runs')[0] ?? 10);
const cwd = option('--cwd')[0] ?? process.cwd();
const env = { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', NO_COLOR: '1', ...Object.fromEntries(option('--env').map((kv) => kv.split(/=(.*)/s).slice(0, 2))) };

const maps = new Map();
function sourceMapOf(url) {
  if (!maps.has(url)) {
    let map;
    try {
      // bin/rollout.js names the bundle by its path; modules loaded by Node have file:// URLs.
      const path = url.startsWith('file://') ? fileURLToPath(url) : url.startsWith('/') ? url : undefined;
      if (path) map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')));
    } catch {
      // no map: not part of the bundle
    }
    maps.set(url, map);
  }
  return maps.get(url);
}

const GLUE = 'bundle glue (esbuild module wrappers)';

/** The bundled code a frame is in (a package, or a file of src/), or undefined outside the bundle. */
function bundledSourceOf({ url, lineNumber, columnNumber }) {
  const map = sourceMapOf(url);
  if (!map) return undefined;
  const source = map.findEntry(lineNumber, columnNumber)?.originalSource;
  if (source === undefined) return GLUE;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  return pkg ? `package ${pkg[1]}` : source.replace(/.*\/src\//, 'src/');
}

/**
 * The bucket of a sample whose innermost frame is `id`: its nearest bundled caller (esbuild's
 * module wrappers pass the sample on to the module they load), else what the leaf is.
 */
function bucketOf(id, frames, parents) {
  let glue;
  for (let at = id; at !== undefined; at = parents.get(at)) {
    const source = bundledSourceOf(frames.get(at));
    if (source === GLUE) glue = GLUE;
    else if (source !== undefined) return source;
  }
  if (glue) return glue;
  const { url, functionName } = frames.get(id);
  if (functionName === 'Script' && url === 'node:vm') return 'V8 reading the code cache (compiling what it lacks)';
  if (functionName === 'createCachedData') return 'V8 writing the code cache (a first run)';
  if (functionName === 'compileForInternalLoader') return "Node compiling its own modules (node:http, …)";
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(idle)') return 'idle (waiting for I/O)';
  return url.startsWith('node:') || url === '' ? "Node's start-up and module loading" : url.replace(/.*\//, '');
}

function profileOnce(dir) {
  const run = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-interval=200', `--cpu-prof-dir=${dir}`, join(root, 'bin/rollout.js'), ...args], { cwd, env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`rollout ${args.join(' ')} exited ${run.status}:\n${run.stderr}`);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  rmSync(join(dir, file));
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const parents = new Map(profile.nodes.flatMap((n) => (n.children ?? []).map((child) => [child, n.id])));
  const buckets = new Map();
  const totals = new Map([['total (profiled)', (profile.endTime - profile.startTime) / 1000]]);
  profile.samples.forEach((id, i) => {
    if (!buckets.has(id)) buckets.set(id, bucketOf(id, frames, parents));
    const bucket = buckets.get(id);
    totals.set(bucket, (totals.get(bucket) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return totals;
}

const dir = mkdtempSync(join(tmpdir(), 'rollout-profile-'));
try {
  const all = [];
  for (let i = 0; i < runs; i++) all.push(profileOnce(dir));
  const buckets = [...new Set(all.flatMap((t) => [...t.keys()]))];
  const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
  const rows = buckets.map((b) => [b, median(all.map((t) => t.get(b) ?? 0))]).sort((a, b) => b[1] - a[1]);
  console.log(`rollout ${args.join(' ')}: CPU profile, median ms over ${runs} runs`);
  for (const [bucket, ms] of rows.filter(([, ms]) => ms >= 0.5)) console.log(`${ms.toFixed(1).padStart(8)}  ${bucket}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
