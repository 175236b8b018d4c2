/**
 * A progress line on stderr for waits longer than a moment (issue 17): what is awaited, attempt
 * n/m, time left. Redrawn in place on a terminal; nothing at all elsewhere, so CI logs and --json
 * stay clean. Injected through the command context, so tests can see it.
 */
import { processSecrets, type Secrets } from '../plan/secrets.js';

/** A line that says what the command is waiting for. */
export interface Progress {
  /** Replaces the line with `text`. */
  show(text: string): void;
  /** Removes the line. */
  clear(): void;
}

/** A progress line on `stream` (stderr) when it is a terminal; silent otherwise. */
export function createProgress(stream: { isTTY?: boolean; write(text: string): unknown }, secrets: Secrets = processSecrets): Progress {
  if (!stream.isTTY) return { show: () => undefined, clear: () => undefined };
  let shown = false;
  return {
    show(text) {
      stream.write(`\r\x1b[K${secrets.redact(text)}`);
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}
