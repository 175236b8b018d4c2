/**
 * A block redrawn in place on a terminal (`run`'s live view, `status --watch`), with log lines
 * printed above it. log-update erases exactly what the last frame took; every line is fitted to the
 * terminal's width first (cut, or wrapped where it names a command), so a frame never takes more
 * rows than it counted.
 * Imported only when a live view is drawn: its width measuring (Intl.Segmenter) costs start-up time.
 */
import cliTruncate from 'cli-truncate';
import { createLogUpdate } from 'log-update';
import { stripVTControlCharacters } from 'node:util';
import wrapAnsi from 'wrap-ansi';
import type { Output } from './output.js';

/** A block on screen that a new frame replaces. */
export interface LiveRegion {
  /** Width of the terminal now (it may have been resized), or undefined off a terminal. */
  columns(): number | undefined;
  /** Replaces the block on screen with `block`. */
  render(block: string): void;
  /** Prints `line` above the block, where it stays (it may wrap: it is never redrawn). Warnings for stderr go there too. */
  log(line: string): void;
  /** Leaves the last frame on screen and stops redrawing. */
  done(): void;
}

/** A backquoted command, as people read one (`rollout resume`). */
const COMMAND = /`[^`]*`/g;
const NO_BREAK = '\u00a0';

/** Whether `line` must be wrapped, not cut: the `next:` line, or any line naming a command to type. */
function mustStayWhole(line: string): boolean {
  const text = stripVTControlCharacters(line);
  return text.startsWith('next: ') || /`[^`]+`/.test(text);
}

/** `line` wrapped at spaces onto rows of `columns`, never breaking inside a command unless it alone is wider. */
function wrapKeepingCommands(line: string, columns: number): string {
  const glued = line.replace(COMMAND, (command) => command.replaceAll(' ', NO_BREAK));
  return wrapAnsi(glued, columns, { hard: true }).replaceAll(NO_BREAK, ' ');
}

/**
 * Each line of `block` fitted to `columns` (ANSI-aware: colours survive and are closed): cut at
 * the edge, except a line naming a command, which wraps onto as many rows as it needs so the
 * command is never the part cut off.
 */
export function fitToWidth(block: string, columns: number): string {
  return block
    .split('\n')
    .map((line) => (mustStayWhole(line) ? wrapKeepingCommands(line, columns) : cliTruncate(line, columns, { position: 'end' })))
    .join('\n');
}

/** A live region on `out`'s stdout, which must be a terminal. */
export function createLiveRegion(out: Output): LiveRegion {
  const stream = {
    get columns() {
      return out.terminalSize()?.columns;
    },
    get rows() {
      return out.terminalSize()?.rows;
    },
    write: (text: string) => out.write(text),
  };
  // The cursor stays visible: a prompt or Ctrl-C mid-frame must never leave it hidden.
  const update = createLogUpdate(stream as unknown as NodeJS.WriteStream, { showCursor: true });
  let last = '';
  const fit = (block: string) => {
    const columns = stream.columns;
    return columns ? fitToWidth(block, columns) : block;
  };
  /** Takes the frame off the screen for `write`, then puts it back below what was written. */
  const above = (write: () => void) => {
    if (!last) return write();
    update.clear();
    write();
    if (last) update(fit(last));
  };
  out.wrapErrors(above);
  return {
    columns: () => stream.columns,
    render(block) {
      last = block;
      update(fit(block));
    },
    log: (line) => above(() => out.print(line)),
    done() {
      out.wrapErrors(undefined);
      update.done();
    },
  };
}
