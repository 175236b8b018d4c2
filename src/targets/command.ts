/**
 * The `command` target: a percentage set and read by programs the user names (argv, never a
 * shell). Also home of `spawnArgv`, the one way targets run a program (env-file's `after` too).
 */
import { spawn } from 'node:child_process';
import { TargetError } from '../errors.js';
import { processSecrets } from '../plan/secrets.js';
import { attemptAll } from './attempt-all.js';
import { endInFlight, inFlightKey, recordInFlight } from './in-flight.js';
import { checkReadBack, parsePercent } from './percent.js';
import type { Target } from './target.js';
import type { TargetConfig } from '../plan/types.js';

/** A `command` target. */
export interface CommandTargetConfig extends TargetConfig {
  type: 'command';
  /** argv; "{{percent}}" in any element becomes the percentage. */
  set: string[];
  get?: string[];
  emergency: string[][];
  timeoutMs: number;
}

/** How to run one program. */
export interface SpawnOptions {
  timeoutMs: number;
  /** Names the program's role in messages, e.g. "`after` command". */
  label: string;
  cwd?: string;
  signal?: AbortSignal;
  /** Records the program as a write in flight under this key (see in-flight.ts) while it runs. */
  inFlightKey?: string;
}

/** What a program that exited 0 printed. */
export interface RunResult {
  stdout: string;
}

/** Output kept for error messages: enough for the last lines, bounded against chatty programs. */
const OUTPUT_CAP = 64 * 1024;
/** A `get` printing more than this is not printing a percentage. */
const STDOUT_CAP = 1024 * 1024;
const TAIL_LINES = 10;
/** After SIGTERM on timeout, a program gets this long to exit before SIGKILL. */
const KILL_GRACE_MS = 2_000;

/** argv for messages, secrets removed. */
function describeArgv(argv: string[]): string {
  return processSecrets.redact(argv.map((a) => (/[\s"']/.test(a) || a === '' ? JSON.stringify(a) : a)).join(' '));
}

/** The last lines of a program's output, redacted, for an error message. */
function outputTail(output: string): string {
  const lines = processSecrets.redact(output).trimEnd().split(/\r?\n/).slice(-TAIL_LINES);
  return lines.join('\n').trim() === '' ? ' (no output)' : `:\n${lines.map((l) => `    ${l}`).join('\n')}`;
}

/**
 * Runs `argv` without a shell. Resolves with its stdout when it exits 0; otherwise throws a
 * TargetError with the exit code (or signal, or timeout) and the last lines of its output.
 * The program runs in its own process group so a timeout also stops whatever it started.
 */
export function spawnArgv(argv: string[], options: SpawnOptions): Promise<RunResult> {
  const [file, ...args] = argv;
  const shown = `${options.label} "${describeArgv(argv)}"`;
  if (file === undefined || file === '') return Promise.reject(new TargetError(`${options.label} is empty`));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    const clearRecord = options.inFlightKey !== undefined && child.pid !== undefined ? recordInFlight(options.inFlightKey, child.pid) : undefined;
    let output = '';
    let stdout = '';
    let stopping: 'timeout' | 'aborted' | undefined;
    const collect = (chunk: Buffer, isStdout: boolean) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-OUTPUT_CAP);
      if (isStdout && stdout.length < STDOUT_CAP) stdout += text;
    };
    child.stdout.on('data', (c: Buffer) => collect(c, true));
    child.stderr.on('data', (c: Buffer) => collect(c, false));

    const kill = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // Already gone.
      }
    };
    const stop = (why: 'timeout' | 'aborted') => {
      stopping ??= why;
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS).unref();
    };
    const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
    const onAbort = () => stop('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = () => {
      clearRecord?.();
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };

    child.on('error', (err: NodeJS.ErrnoException) => {
      finish();
      const why =
        err.code === 'ENOENT' ? 'command not found' : err.code === 'EACCES' ? 'not executable' : processSecrets.redact(err.message);
      reject(new TargetError(`${shown}: ${why}`, 'check the program path in the plan (no shell is used: write argv, not a command line)'));
    });
    child.on('close', (code, signal) => {
      finish();
      if (stopping === 'timeout') reject(new TargetError(`${shown} did not finish within ${options.timeoutMs} ms${outputTail(output)}`));
      else if (stopping === 'aborted') reject(new TargetError(`${shown} was stopped: the command was interrupted`));
      else if (code === 0) resolve({ stdout });
      else {
        const how = code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with code ${code}`;
        reject(new TargetError(`${shown} ${how}${outputTail(output)}`));
      }
    });
  });
}

/** Replaces "{{percent}}" in every argument. */
function substitute(argv: string[], percent: number): string[] {
  return argv.map((a) => a.split('{{percent}}').join(String(percent)));
}

/** A target driven by programs: `set` with "{{percent}}", optional `get` printing the percentage. */
export function createCommandTarget(config: CommandTargetConfig): Target {
  const run = (argv: string[], label: string, signal?: AbortSignal, key?: string) =>
    spawnArgv(argv, { timeoutMs: config.timeoutMs, label, signal, inFlightKey: key });
  const writes = inFlightKey(config.set);

  async function read(signal?: AbortSignal): Promise<number | undefined> {
    if (!config.get) return undefined;
    const { stdout } = await run(config.get, '`get` command', signal);
    const percent = parsePercent(stdout);
    if (percent === undefined) {
      const printed = processSecrets.redact(stdout.trim()).slice(0, 200);
      throw new TargetError(
        `\`get\` command "${describeArgv(config.get)}" printed ${JSON.stringify(printed)}, not a percentage`,
        'it must print only the number, e.g. "25" or "25%"',
      );
    }
    return percent;
  }

  return {
    description: `command ${describeArgv(config.set)}`,
    read,
    async apply(percent, signal) {
      await run(substitute(config.set, percent), '`set` command', signal, writes);
      if (config.get) checkReadBack(percent, await read(signal), `\`get\` command "${describeArgv(config.get)}"`);
    },
    async settle(which) {
      await endInFlight(writes, which);
    },
    emergency: (signal) =>
      attemptAll(
        config.emergency.map((argv) => ({
          name: describeArgv(argv),
          run: async () => {
            await run(argv, 'emergency command', signal);
          },
        })),
      ),
  };
}
