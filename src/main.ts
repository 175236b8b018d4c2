/**
 * The entry point: runs the program and maps every outcome to an exit code. This is the ONLY
 * place that decides how the process exits. Kept tiny: everything else is imported lazily
 * (bin/rollout.js answers `--version` before even this module loads).
 */
import { DeclinedError, ExitCode, InterruptedError, isCommitFailure, RolloutError } from './errors.js';
import { processSecrets } from './plan/secrets.js';
import { shutdown } from './shutdown.js';
import { flushOutput, stderr, stdout } from './stdio.js';
import { watchStops } from './stop-signals.js';

declare const __ROLLOUT_VERSION__: string | undefined;
/** Injected by the build from package.json. */
export const VERSION = typeof __ROLLOUT_VERSION__ === 'string' ? __ROLLOUT_VERSION__ : '0.0.0-dev';

/** Runs `rollout` with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const wantsJson = argv.includes('--json');
  const wantsUtc = argv.includes('--utc');
  const controller = new AbortController();
  const stopWatching = watchStops(controller);
  let exitCode: number;
  try {
    const { runProgram } = await import('./cli/program.js');
    exitCode = await runProgram(argv, { env, signal: controller.signal, version: VERSION });
  } catch (err) {
    exitCode = await reportError(asInterruption(err, controller.signal), { json: wantsJson, utc: wantsUtc }, env);
  } finally {
    stopWatching();
    await shutdown();
    await flushOutput();
  }
  return afterOutputFailure(exitCode);
}

/**
 * A command whose output could not be written (a full disk, not a reader that left) did not do
 * all it was asked: a success or a stop becomes exit 1, and a failed stdout is said on stderr (a
 * failed stderr is not said on stdout, which may carry a --json document).
 */
async function afterOutputFailure(exitCode: number): Promise<number> {
  if (!stdout.failure && !stderr.failure) return exitCode;
  if (stdout.failure) {
    stderr.write(processSecrets.redact(`error: cannot write stdout: ${stdout.failure.message}\nhint: free space where it goes, or send it elsewhere\n`));
    await stderr.flushed();
  }
  return exitCode === ExitCode.ok || exitCode === ExitCode.interrupted ? ExitCode.unexpected : exitCode;
}

/** Prints an error, its times in UTC with --utc (redacted; with --json also as the error document on stdout) and returns its exit code. */
async function reportError(err: unknown, { json, utc }: { json: boolean; utc: boolean }, env: NodeJS.ProcessEnv): Promise<number> {
  const known = err instanceof RolloutError;
  const exitCode = known ? err.exitCode : ExitCode.unexpected;
  const message = known && utc ? err.inUtc() : err instanceof Error ? err.message : String(err);
  const hint = known ? err.hint : 'this is a bug in rollout; rerun with ROLLOUT_DEBUG=1 and report the output';
  if (json) {
    const { errorDocument } = await import('./cli/json-documents.js');
    stdout.write(`${processSecrets.redact(JSON.stringify(errorDocument(err, exitCode, hint)))}\n`);
  }
  // An interruption or a "no" was asked for: it is said plainly, in one line, not as an error.
  const asked = err instanceof InterruptedError || err instanceof DeclinedError;
  stderr.write(processSecrets.redact(asked ? `${message}\n` : `error: ${message}\n${hint ? `hint: ${hint}\n` : ''}`));
  if (!known && env.ROLLOUT_DEBUG && err instanceof Error && err.stack) {
    const { sourceMappedStack } = await import('./debug-stack.js');
    stderr.write(processSecrets.redact(`${sourceMappedStack(err.stack)}\n`));
  }
  return exitCode;
}

/**
 * An error thrown after the command was stopped is, most likely, the stop itself (a read cut
 * short): it ends as the interruption. A failed change of the target keeps its own error.
 */
function asInterruption(err: unknown, signal: AbortSignal): unknown {
  if (!signal.aborted || err instanceof RolloutError && (err instanceof InterruptedError || err instanceof DeclinedError || isCommitFailure(err))) return err;
  return signal.reason instanceof InterruptedError ? signal.reason : new InterruptedError();
}
