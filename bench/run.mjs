// `npm run bench` (after the build): bundles each benchmark (TypeScript importing src/ and
// test/helpers/) with esbuild into a temporary directory, runs each in its own node process, so
// that none inherits another's heap, JIT state or servers, and prints one table of every figure
// with its reference, ratio, target and PASS/MISS. Exits 1 if any target is missed.
//
//   node bench/run.mjs [--only <name>[,<name>…] | <name>…]
//
// Each benchmark writes its rows to stdout, one JSON object a line (see bench/lib.ts); its
// progress goes to stderr, which passes through.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { nodeBundleOptions } from '../scripts/node-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/** In table order. `node`: flags the benchmark's process needs. */
const BENCHMARKS = [
  { name: 'startup', file: 'startup.ts', about: '1. whole-process start-up vs node -e 0' },
  { name: 'emergency', file: 'emergency-rollback.ts', about: '2. rollback --emergency vs node -e 0 and curl' },
  { name: 'fan-out', file: 'fan-out.ts', about: '3. one poll of 50 Prometheus queries vs one query' },
  { name: 'exposition', file: 'exposition.ts', node: ['--expose-gc'], about: '4. exposition parse + evaluate vs parse-prometheus-text-format; peak memory' },
  { name: 'soak', file: 'soak.ts', node: ['--expose-gc'], about: '5. run loop, 100,000 polls on a fake clock' },
  { name: 'reaction', file: 'reaction.ts', about: '6. bad canary → rollback write, real Prometheus' },
  { name: 'decision', file: 'decision.ts', about: '7. false rollbacks and detection: fixed limits vs the sequential test, simulated traffic' },
  { name: 'floors', file: 'floors.ts', about: '8. what start-up cannot go below: bin/rollout.js with nothing, a YAML parse, one PUT (info)' },
];

/** A benchmark that has not ended after this long is stopped and reported as an error. */
const TIME_LIMIT_MS = 10 * 60_000;

/** `--only a,b` or the names as arguments (`npm run bench -- decision`); none: all of them. */
function selected(argv) {
  const at = argv.indexOf('--only');
  const names = at < 0 ? argv.filter((arg) => !arg.startsWith('-')) : (argv[at + 1] ?? '').split(',').filter(Boolean);
  if (at < 0 && names.length === 0) return BENCHMARKS;
  const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (names.length === 0 || unknown.length > 0) {
    console.error(`--only takes benchmark names: ${BENCHMARKS.map((b) => b.name).join(', ')}${unknown.length ? ` (not: ${unknown.join(', ')})` : ''}`);
    process.exit(2);
  }
  return BENCHMARKS.filter((b) => names.includes(b.name));
}

function machine() {
  const model = /model name\s*:\s*(.*)/.exec(existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '')?.[1] ?? cpus()[0]?.model ?? 'unknown CPU';
  // Variables bench/lib.ts passes to the timed processes: such a run is no figure of record.
  const environment = process.env.BENCH_PASS_ENV ? ` · BENCH_PASS_ENV=${process.env.BENCH_PASS_ENV} (for comparison, not a figure of record)` : '';
  return `${new Date().toISOString()} · ${cpus().length} cores (${model}) · node ${process.version} · ${process.platform}${environment}`;
}

/** Runs one bundled benchmark; resolves with its rows (an ERROR row if it failed). */
function runOne(benchmark, script) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...(benchmark.node ?? []), script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGTERM'), TIME_LIMIT_MS);
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const rows = [];
      for (const line of out.split('\n').filter(Boolean)) {
        try {
          rows.push(JSON.parse(line));
        } catch {
          process.stderr.write(`${line}\n`);
        }
      }
      if (code !== 0) {
        rows.push({ benchmark: `${benchmark.name}: ERROR`, measured: '—', reference: '—', target: { text: `exited with ${signal ?? code} (see above)`, pass: false } });
      }
      console.error(`  ${benchmark.name} took ${((performance.now() - started) / 1000).toFixed(0)} s`);
      resolve(rows);
    });
  });
}

/** The table, as Markdown (it reads as plain text too), so bench/README.md can quote it as printed. */
function table(rows) {
  const cells = rows.map((r) => [
    r.benchmark,
    r.measured,
    r.reference,
    r.ratio === undefined ? '—' : `${r.ratio.toFixed(Number(r.ratio.toFixed(2)) === r.target?.limit ? 3 : 2)}×`,
    r.target?.text ?? '—',
    r.target === undefined ? 'info' : r.target.pass ? 'PASS' : 'MISS',
  ]);
  const header = ['benchmark', 'measured', 'reference', 'ratio', 'target', 'result'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => `| ${c.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

const chosen = selected(process.argv.slice(2));
if (!existsSync(join(root, 'dist/rollout.cjs'))) {
  console.error('dist/rollout.cjs is missing: run `npm run bench` (it builds first) or `npm run build`');
  process.exit(2);
}
const outdir = mkdtempSync(join(tmpdir(), 'rollout-bench-'));
try {
  await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(chosen.map((b) => [b.name, join('bench', b.file)])),
    outdir,
    outExtension: { '.js': '.mjs' },
    ...nodeBundleOptions,
    // The bundles run from the temporary directory; bench/lib.ts finds the repository by this.
    define: { __BENCH_REPO__: JSON.stringify(root) },
  });
  const rows = [];
  for (const benchmark of chosen) {
    console.error(`${benchmark.name}: ${benchmark.about}`);
    rows.push(...(await runOne(benchmark, join(outdir, `${benchmark.name}.mjs`))));
  }
  console.log(`\n${machine()}\n`);
  console.log(table(rows));
  if (rows.some((r) => r.target && !r.target.pass)) process.exitCode = 1;
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
