/**
 * What stops a command: SIGINT (Ctrl-C), SIGTERM (a CI job cancelled, a pod stopped), SIGHUP (the
 * terminal closed), or its output pipe closing (`rollout run | head -2`). Each aborts the
 * command's signal once, so it stops as an interrupt does: a change in flight is finished, locks
 * are released, exit 130. A second signal exits at once.
 */
import { ExitCode, InterruptedError, OutputClosedError } from './errors.js';
import { whenOutputCloses } from './stdio.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The command now running: what a closed output stops. */
let running: AbortController | undefined;

/** Aborts `controller` on a stop signal or a closed stdout/stderr; returns a function that stops listening to signals. */
export function watchStops(controller: AbortController): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted); // second signal: stop now
    controller.abort(new InterruptedError(`interrupted by ${signal}`));
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  running = controller;
  // The listener stays for the whole process, since the final messages are written after the
  // command has ended; later writes to the closed output are dropped.
  whenOutputCloses(onOutputClosed);
  return () => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
}

function onOutputClosed(err: NodeJS.ErrnoException): void {
  if (running && !running.signal.aborted) running.abort(new OutputClosedError(`stopped: output closed (${err.code ?? err.message})`));
}
