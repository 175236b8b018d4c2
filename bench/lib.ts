/**
 * What the benchmarks share: timing whole processes against a reference timed in the same run,
 * medians, fresh child processes, and the rows each benchmark hands to bench/run.mjs.
 *
 * The machine is shared and noisy, so no figure stands alone: each is divided by a reference
 * measured in the same run, with the runs of the measured and the reference interleaved so that a
 * burst of load elsewhere hits both alike, and each figure is a median over at least 10 runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

declare const __BENCH_REPO__: string | undefined;
/** The repository: bench/run.mjs bundles the benchmarks into a temporary directory and defines it. */
export const REPO = typeof __BENCH_REPO__ === 'string' ? __BENCH_REPO__ : process.cwd();
/** The CLI as users run it: bin/rollout.js over the bundle `npm run build` wrote. */
export const BIN = join(REPO, 'bin/rollout.js');

/** Runs per figure: BENCH_RUNS, never fewer than 10 (the issue's minimum for a median). */
export const RUNS = Math.max(10, Number(process.env.BENCH_RUNS ?? 20) || 20);
/** Runs per whole-process figure: a few tens of ms each, so cheap, and the noisiest of all; twice as many. */
export const PROCESS_RUNS = 2 * RUNS;

/** One line of the results table. */
export interface Row {
  benchmark: string;
  measured: string;
  reference: string;
  /** The figure as a multiple of its reference, shown as "1.23×" (for throughput: how many times
   * faster than the reference); absent where no ratio applies. */
  ratio?: number;
  /** The target and whether the figure meets it; absent for figures reported without one. */
  target?: Target;
}

export interface Target {
  text: string;
  pass: boolean;
  /** The bound, so the table can show a ratio that rounds onto it with one more digit. */
  limit: number;
}

export const atMost = (limit: number, value: number, unit = '×'): Target => ({ text: `≤ ${limit}${unit}`, pass: value <= limit, limit });
export const atLeast = (limit: number, value: number, unit = '×'): Target => ({ text: `≥ ${limit}${unit}`, pass: value >= limit, limit });
export const below = (limit: number, value: number, unit: string): Target => ({ text: `< ${limit} ${unit}`, pass: value < limit, limit });

/** Hands a row to bench/run.mjs: stdout carries rows only (one JSON object a line); progress goes to stderr. */
export function report(row: Row): void {
  process.stdout.write(`${JSON.stringify(row)}\n`);
}

/** Progress for the person watching; not part of the results. */
export function progress(message: string): void {
  process.stderr.write(`  ${message}\n`);
}

export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

export function formatBytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 10 ms until it holds; throws `failure` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, failure: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(failure);
    await sleep(10);
  }
}

/**
 * Variables of the caller's environment every timed process keeps: BENCH_PASS_ENV, names separated
 * by commas. Only to compare with figures taken in a fuller environment (bench/README.md, "Against
 * the issue's prototype"); the figures of record are taken without.
 */
export const PASSED_ENV = (process.env.BENCH_PASS_ENV ?? '').split(',').filter((name) => process.env[name] !== undefined);

/** The environment of every timed process, the reference's too: a CI job's, without the caller's variables. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const passed = Object.fromEntries(PASSED_ENV.map((name) => [name, process.env[name]]));
  return { ...passed, PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', NO_COLOR: '1', ROLLOUT_ACTOR: 'bench', ...extra };
}

/** A command timed as a whole process, from spawn to exit with its output closed. */
export interface TimedCommand {
  /** How the table names it, e.g. "rollout --version". */
  label: string;
  file: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Exit code that means it did its job (default 0); anything else fails the benchmark. */
  exitCode?: number;
}

/** `node <args>` with the clean environment. */
export function nodeCommand(label: string, args: string[], options: Partial<TimedCommand> = {}): TimedCommand {
  return { label, file: process.execPath, args, env: cleanEnv(), ...options };
}

/** `rollout <args>` through bin/rollout.js. */
export function rolloutCommand(args: string[], options: Partial<TimedCommand> = {}): TimedCommand {
  return nodeCommand(`rollout ${args.join(' ')}`, [BIN, ...args], options);
}

/** Runs `command` once; resolves with its wall time in ms, rejects if it did not succeed. */
export function timeCommand(command: TimedCommand): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command.file, command.args, { cwd: command.cwd, env: command.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-2000));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === (command.exitCode ?? 0)) resolve(ms);
      else reject(new Error(`${command.label} exited with ${signal ?? code}:\n${output}`));
    });
  });
}

/**
 * Times each command `PROCESS_RUNS` times after `warmup` untimed rounds (which fill the page cache), in
 * rounds that run every command once, the order rotating from round to round so that none
 * always runs first. Returns the times by command, in `commands` order.
 */
export async function timeInterleaved(commands: TimedCommand[], warmup = 2): Promise<number[][]> {
  const times = commands.map(() => [] as number[]);
  for (let round = -warmup; round < PROCESS_RUNS; round++) {
    for (let k = 0; k < commands.length; k++) {
      const index = (k + Math.max(round, 0)) % commands.length;
      const ms = await timeCommand(commands[index]!);
      if (round >= 0) times[index]!.push(ms);
    }
  }
  return times;
}

/** The most memory a short command may take (peak RSS), in MB: `node -e 0` alone takes about 40. */
export const MAX_RSS_MB = 50;

/** Peak RSS runs per command: memory varies far less than time. */
const RSS_RUNS = 10;

/**
 * The median peak RSS of `command` (a node process) in bytes, over RSS_RUNS runs after a warm-up:
 * each run preloads bench/peak-rss.cjs, which reports the kernel's high-water mark at exit. Kept
 * apart from the timed runs, so the preload never weighs on a time.
 */
export async function peakRss(command: TimedCommand): Promise<number> {
  if (command.file !== process.execPath) throw new Error(`${command.label}: peak RSS is measured for node processes only`);
  const dir = mkdtempSync(join(tmpdir(), 'rollout-bench-rss-'));
  try {
    const file = join(dir, 'peaks');
    const measured = { ...command, args: ['-r', join(REPO, 'bench/peak-rss.cjs'), ...command.args], env: { ...(command.env ?? cleanEnv()), BENCH_PEAK_RSS_FILE: file } };
    for (let run = -1; run < RSS_RUNS; run++) {
      await timeCommand(measured);
      if (run < 0) rmSync(file, { force: true });
    }
    const peaks = readFileSync(file, 'utf8').trim().split('\n').map((kib) => Number(kib) * 1024);
    if (peaks.length !== RSS_RUNS) throw new Error(`${command.label}: ${peaks.length} peak RSS reports in ${RSS_RUNS} runs`);
    return median(peaks);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A row of a command's peak RSS against an absolute limit in MB, beside `node -e 0`'s. */
export function rssRow(benchmark: string, bytes: number, reference: number, limitMb: number): Row {
  return {
    benchmark,
    measured: formatBytes(bytes),
    reference: `${formatBytes(reference)} (node -e 0)`,
    ratio: bytes / reference,
    target: atMost(limitMb, bytes / 1e6, ' MB'),
  };
}

/** A row comparing two medians: "measured / reference" against a ratio target. */
export function ratioRow(benchmark: string, measured: { label?: string; ms: number }, reference: { label: string; ms: number }, target?: (ratio: number) => Target): Row {
  const ratio = measured.ms / reference.ms;
  return {
    benchmark,
    measured: `${formatMs(measured.ms)}${measured.label ? ` (${measured.label})` : ''}`,
    reference: `${formatMs(reference.ms)} (${reference.label})`,
    ratio,
    target: target?.(ratio),
  };
}

/**
 * Runs this same benchmark file again in a fresh process in `mode` (its first argument), for what
 * must not share the measuring process: a server that would compete for its event loop, or a
 * memory measurement that must start clean. Resolves once the child's first stdout line arrives.
 */
export function spawnSelf(mode: string, args: string[] = [], nodeOptions: string[] = []): Promise<{ child: ChildProcess; firstLine: string; exited: Promise<number | null> }> {
  const script = process.argv[1];
  if (!script) throw new Error('no script path to respawn');
  const child = spawn(process.execPath, [...nodeOptions, script, mode, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const end = buffered.indexOf('\n');
      if (end < 0) return;
      child.stdout!.off('data', onData);
      resolve({ child, firstLine: buffered.slice(0, end), exited });
    };
    child.stdout!.on('data', onData);
    child.once('error', reject);
    void exited.then((code) => reject(new Error(`${mode} child exited (${code}) before answering`)));
  });
}

/**
 * An environment for a plan's `${VAR}`s: each one the plan names set to a placeholder URL (which
 * also passes as a token), so an example plan loads without anyone's secrets.
 */
export function placeholderEnv(planText: string): NodeJS.ProcessEnv {
  const names = [...planText.matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((m) => m[1]!);
  return Object.fromEntries(names.map((name) => [name, 'https://placeholder.invalid/bench']));
}
