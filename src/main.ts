/**
 * The entry point: runs the program and maps every outcome to an exit code. This is the ONLY
 * place that decides how the process exits. Kept tiny: everything else is imported lazily
 * (bin/rollout.js answers `--version` before even this module loads).
 */
import { ExitCode, InterruptedError, RolloutError } from './errors.js';
import { processSecrets } from './plan/secrets.js';
import { shutdown } from './shutdown.js';

declare const __ROLLOUT_VERSION__: string | undefined;
/** Injected by the build from package.json. */
export const VERSION = typeof __ROLLOUT_VERSION__ === 'string' ? __ROLLOUT_VERSION__ : '0.0.0-dev';

/** Runs `rollout` with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const wantsJson = argv.includes('--json');
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted); // second signal: stop now
    controller.abort(new InterruptedError(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { runProgram } = await import('./cli/program.js');
    return await runProgram(argv, { env, signal: controller.signal, version: VERSION });
  } catch (err) {
    return await reportError(err, wantsJson, env);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await shutdown();
  }
}

/** Prints an error (redacted; with --json also as the error document on stdout) and returns its exit code. */
async function reportError(err: unknown, json: boolean, env: NodeJS.ProcessEnv): Promise<number> {
  const known = err instanceof RolloutError;
  const exitCode = known ? err.exitCode : ExitCode.unexpected;
  const message = err instanceof Error ? err.message : String(err);
  const hint = known ? err.hint : 'this is a bug in rollout; rerun with ROLLOUT_DEBUG=1 and report the output';
  if (json) {
    const { errorDocument } = await import('./cli/json-documents.js');
    process.stdout.write(`${processSecrets.redact(JSON.stringify(errorDocument(err, exitCode, hint)))}\n`);
  }
  process.stderr.write(processSecrets.redact(`error: ${message}\n${hint ? `hint: ${hint}\n` : ''}`));
  if (!known && env.ROLLOUT_DEBUG && err instanceof Error && err.stack) process.stderr.write(processSecrets.redact(`${err.stack}\n`));
  return exitCode;
}
