/**
 * Everything the tool prints goes through an Output: it redacts secrets, knows whether colour and
 * JSON are on, and can be captured in tests.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { processSecrets, type Secrets } from '../plan/secrets.js';
import { stderr, stdout } from '../stdio.js';

export interface Output {
  readonly json: boolean;
  readonly color: ChalkInstance;
  /** stdout is a terminal (live views, in-place refresh). */
  readonly isTTY: boolean;
  /** Human output shows times in UTC (--utc), not local time. */
  readonly utc: boolean;
  /** The terminal's size when stdout is one: live views cut their lines to its width. */
  terminalSize(): TerminalSize | undefined;
  /** A line (or block) for stdout. */
  print(text: string): void;
  /** Text for stdout exactly as given, no newline added: a live view's redraw. */
  write(text: string): void;
  /** A line for stderr: warnings, errors, progress that must not pollute --json. */
  error(text: string): void;
  /**
   * While a live view is on screen it wraps each stderr write (`around(write)`), so the line lands
   * above its frame instead of under it, where the next redraw would miscount; undefined ends that.
   */
  wrapErrors(around: ((write: () => void) => void) | undefined): void;
  /** One JSON document for stdout, on one line: a stream of them is JSON lines. */
  printJson(value: unknown): void;
}

/** Columns and rows of a terminal. */
export interface TerminalSize {
  columns: number;
  rows: number;
}

/** Below this many columns, views use their compact layout. */
export const COMPACT_BELOW_COLUMNS = 100;

/** Whether a view `columns` wide should use its compact layout (never off a terminal). */
export function isCompact(columns: number | undefined): boolean {
  return columns !== undefined && columns < COMPACT_BELOW_COLUMNS;
}

export interface OutputOptions {
  json?: boolean;
  color?: boolean;
  isTTY?: boolean;
  utc?: boolean;
  /** Default: stdout's size, when it is a terminal. */
  terminalSize?: () => TerminalSize | undefined;
  secrets?: Secrets;
  write?: (text: string) => void;
  writeError?: (text: string) => void;
}

/** Colour unless --no-color, NO_COLOR, a dumb terminal, or output that is not a terminal. */
export function wantsColor(flag: boolean | undefined, env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (flag === false || env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return isTTY && env.TERM !== 'dumb';
}

/** An Output over the process's stdout and stderr (or the given writers). */
export function createOutput(options: OutputOptions = {}): Output {
  const secrets = options.secrets ?? processSecrets;
  const write = options.write ?? ((t: string) => stdout.write(t));
  const writeError = options.writeError ?? ((t: string) => stderr.write(t));
  let around: ((write: () => void) => void) | undefined;
  return {
    json: options.json ?? false,
    color: new Chalk({ level: options.color ? 1 : 0 }),
    isTTY: options.isTTY ?? false,
    utc: options.utc ?? false,
    terminalSize: options.terminalSize ?? stdoutSize,
    print: (text) => write(`${secrets.redact(text)}\n`),
    write: (text) => write(secrets.redact(text)),
    error(text) {
      const write = () => writeError(`${secrets.redact(text)}\n`);
      if (around) around(write);
      else write();
    },
    wrapErrors: (wrap) => {
      around = wrap;
    },
    printJson: (value) => write(`${secrets.redact(JSON.stringify(value))}\n`),
  };
}

function stdoutSize(): TerminalSize | undefined {
  const { columns, rows } = stdout;
  return columns !== undefined && columns > 0 ? { columns, rows: rows !== undefined && rows > 0 ? rows : 24 } : undefined;
}

/** An Output that records what would be printed (tests, and the demo's narration). */
export function memoryOutput(options: Omit<OutputOptions, 'write' | 'writeError'> = {}): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out = createOutput({ ...options, write: (t) => stdout.push(t), writeError: (t) => stderr.push(t) });
  return Object.assign(out, { stdout, stderr });
}
