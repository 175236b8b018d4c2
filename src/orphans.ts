/**
 * Temp files whose writer died (kill -9, OOM killer, power loss) between creating them and renaming
 * or removing them. Atomic writes make such a file harmless, since nothing reads it, but without a
 * sweep every crash would leave one more beside the user's .env or in the state directory. The
 * writers put their pid in these names, so a later command can tell the orphans from a live
 * writer's file.
 */
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** True when no process with this pid exists on this host. */
export function isPidGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: the process exists but belongs to another user, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes the files in `dir` whose names match `pattern` and whose writer, the pid in the
 * pattern's `pid` group, is gone. Best effort: a file that cannot be listed or removed is left for
 * the next sweep and never fails the command that sweeps. A pid means something only on the host
 * that wrote it; in a directory shared between hosts, another host's temp file could go mid-write,
 * and that write then fails cleanly (its rename finds nothing) instead of being applied by halves.
 */
export async function removeOrphans(dir: string, pattern: RegExp): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    names.map(async (name) => {
      const pid = Number(pattern.exec(name)?.groups?.pid);
      if (Number.isInteger(pid) && pid !== process.pid && isPidGone(pid)) await unlink(join(dir, name)).catch(() => undefined);
    }),
  );
}

/** `text` as a regular expression that matches exactly it. */
export function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
