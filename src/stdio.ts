/**
 * stdout and stderr. A regular file is written directly, as Node's own stream for a file does
 * (synchronously), without creating that stream: with the modules it loads, creating one cost
 * start-up time. Anything else (a terminal, a pipe, a socket) goes through Node's stream, which
 * never makes the process wait for a reader: a direct write to a pipe blocks while the pipe is
 * full, and a `rollout run` whose reader stopped reading must go on judging and rolling back.
 * What the stream queued is written before the process exits (flushOutput): `process.exit` would
 * drop it, and a reader that started late got the first 64 KB of a larger `--json` document.
 */
import { fstatSync, writeSync } from 'node:fs';

export interface StdStream {
  /** A terminal (live views, colour, in-place progress). */
  readonly isTTY: boolean;
  /** The terminal's size; undefined off a terminal. */
  readonly columns: number | undefined;
  readonly rows: number | undefined;
  /** Writes `text` whole; after the output has closed or failed, drops it. */
  write(text: string): void;
  /** Resolves once what Node's stream queued is written, or cannot be. */
  flushed(): Promise<void>;
  /** The error that made the output unusable other than its reader leaving (a full disk, say). */
  readonly failure: NodeJS.ErrnoException | undefined;
}

let closedListener: (err: NodeJS.ErrnoException) => void = () => undefined;

/**
 * Tells `listener` when a write finds stdout or stderr unusable: its reader gone (EPIPE, as after
 * `| head -2`; EIO from a terminal that hung up) or a failure (ENOSPC, EFBIG, EIO of a file).
 * Without one, later writes are dropped, never a crash.
 */
export function whenOutputCloses(listener: (err: NodeJS.ErrnoException) => void): void {
  closedListener = listener;
}

/** Errors that mean the reader has gone, which `rollout … | head` expects: not a failure. */
const READER_GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);

/**
 * What the fd is, as far as writing to it goes: a regular file (written directly), a pipe or socket
 * (never a terminal: Node's stream only to write), or anything else, a character device or an fd
 * fstat cannot read (Node's stream says whether it is a terminal, and how wide).
 */
type FdKind = 'file' | 'pipe' | 'other';

function kindOf(fd: number): FdKind {
  try {
    const info = fstatSync(fd);
    return info.isFile() ? 'file' : info.isFIFO() || info.isSocket() ? 'pipe' : 'other';
  } catch {
    return 'other';
  }
}

/** stdout (1) or stderr (2), with `nodeStream` making Node's stream for it when needed. */
export function stdStream(fd: number, nodeStream: () => NodeJS.WriteStream): StdStream {
  let kind: FdKind | undefined;
  let closed = false;
  let failure: NodeJS.ErrnoException | undefined;
  let stream: NodeJS.WriteStream | undefined;
  const fdKind = () => (kind ??= kindOf(fd));
  const isDirect = () => fdKind() === 'file';
  // Asking a pipe's stream whether it is a terminal would create it, with the modules it loads.
  const mayBeTerminal = () => fdKind() === 'other';
  const unusable = (err: NodeJS.ErrnoException) => {
    if (closed) return;
    closed = true;
    // EIO from a file is a failed disk; from a terminal, one that hung up.
    if (!READER_GONE.has(err.code ?? '') && !(err.code === 'EIO' && !isDirect())) failure = err;
    closedListener(err);
  };
  const viaNode = () => {
    if (!stream) {
      stream = nodeStream();
      // Unhandled, a write to a closed pipe would crash with a stack trace.
      stream.on('error', unusable);
    }
    return stream;
  };
  return {
    get isTTY() {
      return mayBeTerminal() && Boolean(viaNode().isTTY);
    },
    get columns() {
      return mayBeTerminal() ? viaNode().columns : undefined;
    },
    get rows() {
      return mayBeTerminal() ? viaNode().rows : undefined;
    },
    get failure() {
      return failure;
    },
    write(text) {
      if (closed) return;
      if (!isDirect()) {
        viaNode().write(text);
        return;
      }
      const bytes = Buffer.from(text);
      for (let written = 0; written < bytes.length; ) {
        try {
          written += writeSync(fd, bytes, written);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === undefined) throw err; // not the file's answer: a bug, reported as one
          if (code !== 'EINTR') return unusable(err as NodeJS.ErrnoException);
        }
      }
    },
    flushed() {
      const queued = stream;
      if (!queued || closed) return Promise.resolve();
      // Written in order: this empty write's callback runs once everything before it is out, or
      // has failed (its error reported first).
      return new Promise((resolve) => queued.write('', () => resolve()));
    },
  };
}

export const stdout: StdStream = stdStream(1, () => process.stdout);
export const stderr: StdStream = stdStream(2, () => process.stderr);

/** Resolves once what Node's streams queued for stdout and stderr is written, or cannot be. */
export async function flushOutput(): Promise<void> {
  await Promise.all([stdout.flushed(), stderr.flushed()]);
}
