/**
 * A progress line on stderr for waits longer than a moment (issue 17): what is awaited, attempt
 * n/m, time left. Redrawn in place on a terminal; nothing at all elsewhere, so CI logs and --json
 * stay clean. Injected through the command context, so tests can see it.
 */
import type { NetworkWait } from '../net/retry.js';
import { formatDuration } from '../plan/duration.js';
import { processSecrets, type Secrets } from '../plan/secrets.js';

/** A line that says what the command is waiting for. */
export interface Progress {
  /** Replaces the line with `text`. */
  show(text: string): void;
  /** Removes the line. */
  clear(): void;
}

/** Cuts a line to a width (cli-truncate, loaded on the first line that needs it). */
type Cut = (text: string, columns: number) => string;
let loadedCut: Cut | undefined;

/**
 * A progress line on `stream` (stderr) when it is a terminal; silent otherwise. The line is cut to
 * the terminal's width: a wrapped line would leave its first rows behind when it is redrawn. The
 * cutter is loaded with the first line (its width tables cost start-up time most commands never
 * need); a line superseded or cleared while it loads is never drawn.
 */
export function createProgress(stream: { isTTY?: boolean; columns?: number; write(text: string): unknown }, secrets: Secrets = processSecrets): Progress {
  if (!stream.isTTY) return { show: () => undefined, clear: () => undefined };
  let drawn = false;
  /** Counts shows and clears: only the latest may draw. */
  let latest = 0;
  // One column spare: a line that fills the last column leaves the cursor past it on some terminals.
  const draw = (line: string, cut?: Cut) => {
    stream.write(`\r\x1b[K${cut && stream.columns ? cut(line, stream.columns - 1) : line}`);
    drawn = true;
  };
  return {
    show(text) {
      const line = secrets.redact(text);
      if (!stream.columns || loadedCut) return draw(line, loadedCut);
      const ticket = ++latest;
      void import('cli-truncate').then(({ default: cut }) => {
        loadedCut = cut;
        if (ticket === latest) draw(line, cut);
      });
    },
    clear() {
      latest++;
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}

/** A network wait in words: "waiting for an answer from PUT https://…: attempt 2/4, 7s left". */
export function describeWait(wait: NetworkWait): string {
  const doing = wait.phase === 'answer' ? `waiting for an answer from ${wait.what}` : `retrying ${wait.what}`;
  return `${doing}: attempt ${wait.attempt}/${wait.attempts}, ${formatDuration(Math.max(1000, wait.leftMs))} left`;
}

/** A retry's `onWait` that shows each wait on `progress` and clears it when the wait is over. */
export function showWaits(progress: Progress | undefined): ((wait: NetworkWait | undefined) => void) | undefined {
  return progress && ((wait) => (wait ? progress.show(describeWait(wait)) : progress.clear()));
}
