/** Runs the built CLI as a subprocess, as a CI job would: CI=true, no TTY, no colour. */
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/rollout.js', import.meta.url));

/** Where the CLI's code caches go in tests: the temp directory, not the home of whoever runs them. */
const TEST_CODE_CACHE = join(tmpdir(), 'rollout-test-code-cache');

export interface CliResult {
  /** null when the process was killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
  /**
   * Runs the CLI as if on another machine with this hostname (a new UTS namespace; needs root),
   * so its lock holder cannot be checked for liveness from here and only its lease counts.
   */
  hostname?: string;
  /** Another copy of bin/rollout.js to run (an install elsewhere). */
  bin?: string;
}

/** A started `rollout` process: its child (to signal it) and its outcome. */
export interface RunningCli {
  child: ChildProcess;
  result: Promise<CliResult>;
}

/** Starts `rollout ...args` and collects its output; the child's pid is the CLI's own. */
export function startCli(args: string[], options: CliOptions = {}): RunningCli {
  const command = [options.bin ?? BIN, ...args];
  // unshare and sh both exec what follows, so the pid stays the CLI's.
  const [file, argv] = options.hostname
    ? ['unshare', ['--uts', '--', 'sh', '-c', 'hostname "$1" && shift && exec "$@"', 'sh', options.hostname, process.execPath, ...command]]
    : [process.execPath, command];
  const child = spawn(file, argv, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, XDG_CACHE_HOME: TEST_CODE_CACHE, CI: 'true', NO_COLOR: '1', ROLLOUT_ACTOR: 'test-runner', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? 30_000,
  });
  const result = new Promise<CliResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  child.stdin?.end(options.input ?? '');
  return { child, result };
}

/** Runs `rollout ...args` and collects its output. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}
