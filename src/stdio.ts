/**
 * stdout and stderr. When one is a file, a pipe or a socket, text is written to its descriptor
 * directly, and whole: Node's process.stdout for a pipe is a socket object, and creating it (with
 * the net and stream modules it loads) cost about 2.5 ms of every command's start
 * (bench/README.md); and Node writes to a pipe only as much as it takes at once, queueing the rest,
 * which a process that exits then loses (`rollout history --json | slow-reader` got the first
 * 64 KB). A terminal, anything else, and every write after one the descriptor refused for now
 * (EAGAIN: non-blocking, and full) go through Node's stream, in order.
 */
import { fstatSync, writeSync } from 'node:fs';

export interface StdStream {
  /** A terminal (live views, colour, in-place progress). */
  readonly isTTY: boolean;
  /** The terminal's size; undefined off a terminal. */
  readonly columns: number | undefined;
  readonly rows: number | undefined;
  /** Writes `text` whole; after the reader has gone (see whenOutputCloses), drops it. */
  write(text: string): void;
  /** Resolves once what Node's stream queued is written, or cannot be. */
  flushed(): Promise<void>;
}

let closedListener: (err: NodeJS.ErrnoException) => void = () => undefined;

/**
 * Tells `listener` when a write finds stdout or stderr closed (EPIPE: the reader of a pipe left;
 * EIO: the terminal hung up). Without one, such a write is dropped, never a crash.
 */
export function whenOutputCloses(listener: (err: NodeJS.ErrnoException) => void): void {
  closedListener = listener;
}

/**
 * What a pipe or a socket is written directly, at most: less than any pipe holds (64 KB on Linux,
 * 16 KB at least on macOS), so a direct write never waits for a reader that has stopped reading;
 * a `rollout run | less` left alone must not hold up the rollout. Output beyond it goes through
 * Node's stream, which queues what the reader has not taken.
 */
const PIPE_DIRECT_BYTES = 16 * 1024;

/** How many bytes may be written to `fd` directly: all to a file, some to a pipe or socket, none otherwise. */
function directBytes(fd: number): number {
  try {
    const info = fstatSync(fd);
    if (info.isFile()) return Infinity;
    return info.isFIFO() || info.isSocket() ? PIPE_DIRECT_BYTES : 0;
  } catch {
    return 0;
  }
}

/** stdout (1) or stderr (2), with `nodeStream` making Node's stream for it when needed. */
export function stdStream(fd: number, nodeStream: () => NodeJS.WriteStream): StdStream {
  /** Bytes still to be written directly; 0 once the stream is Node's. */
  let direct: number | undefined;
  let closed = false;
  let stream: NodeJS.WriteStream | undefined;
  const viaNode = () => {
    if (!stream) {
      stream = nodeStream();
      direct = 0;
      // Unhandled, a write to a closed pipe would crash with a stack trace.
      stream.on('error', (err: NodeJS.ErrnoException) => closedListener(err));
    }
    return stream;
  };
  const isDirect = () => (direct ??= directBytes(fd)) > 0;
  return {
    get isTTY() {
      return !isDirect() && Boolean(viaNode().isTTY);
    },
    get columns() {
      return isDirect() ? undefined : viaNode().columns;
    },
    get rows() {
      return isDirect() ? undefined : viaNode().rows;
    },
    write(text) {
      if (closed) return;
      const bytes = Buffer.from(text);
      if (!isDirect() || bytes.length > direct!) {
        viaNode().write(bytes);
        return;
      }
      direct! -= bytes.length;
      let written = 0;
      while (written < bytes.length) {
        try {
          written += writeSync(fd, bytes, written);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === undefined) throw err; // not the descriptor's answer: a bug, reported as one
          if (code === 'EINTR') continue;
          if (code === 'EAGAIN') {
            viaNode().write(bytes.subarray(written));
          } else {
            closed = true;
            closedListener(err as NodeJS.ErrnoException);
          }
          return;
        }
      }
    },
    flushed() {
      const queued = stream;
      if (!queued || closed || queued.writableLength === 0) return Promise.resolve();
      // Written in order: this empty write's callback runs once everything before it is out.
      return new Promise((resolve) => queued.write('', () => resolve()));
    },
  };
}

export const stdout: StdStream = stdStream(1, () => process.stdout);
export const stderr: StdStream = stdStream(2, () => process.stderr);

/**
 * Resolves once what Node's streams queued for stdout and stderr is written, or cannot be: a
 * process that exits first loses it (`process.exit` does not wait for a pipe's reader).
 */
export async function flushOutput(): Promise<void> {
  await Promise.all([stdout.flushed(), stderr.flushed()]);
}
