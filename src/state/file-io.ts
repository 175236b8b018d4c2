/** File primitives of the file store: atomic replacement, non-blocking reads, unique sibling names. */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';

/** True when `err` is the errno `code` (ENOENT, EEXIST…). */
export function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

/** A unique sibling path for temp and evicted files, so concurrent writers never share one. */
export function siblingPath(path: string, suffix: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.${suffix}`;
}

/**
 * Replaces `path` whole: readers see the old content or the new, also after a crash. The caller
 * syncs the directory afterwards: once the rename is done, the new content is in place.
 */
export async function writeAtomic(path: string, data: string): Promise<void> {
  const tmp = siblingPath(path, 'tmp');
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/**
 * Content and age of a file read through one descriptor, or undefined when it is gone. Opened
 * non-blocking and read only when regular: a FIFO put in its place would otherwise block the open
 * for ever (and, in Node, the process's exit with it). Anything else reads as `notRegular`.
 */
export async function readRegularFile(path: string): Promise<{ raw: string; ageMs: number } | 'notRegular' | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) return 'notRegular';
    return { raw: await fh.readFile('utf8'), ageMs: Date.now() - stat.mtimeMs };
  } finally {
    await fh.close();
  }
}
