/** Durability of directory entries, shared by the state store and the env-file target. */
import { open } from 'node:fs/promises';

/**
 * Makes a rename or create in `dir` durable. A no-op where directories cannot be synced
 * (Windows, some network and FUSE file systems): the entry is in place, only its durability is unknown.
 */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM') throw err;
  } finally {
    await handle?.close();
  }
}
