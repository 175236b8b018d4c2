/**
 * The default state store: `<dir>/<name>.json` (state), `<dir>/<name>.history.jsonl` (one event
 * per line, append-only) and `<dir>/<name>.lock` (the holder, as JSON); the poll log beside them
 * is file-samples.ts's.
 *
 * Crash consistency (kill -9 at any instant):
 * - State is replaced whole: temp file, fsync, rename, fsync of the directory. A reader sees the
 *   old state or the new one, never a mix; a crash before the rename leaves the old state and an
 *   orphaned `*.tmp` file, which nothing reads; the next command that takes the lock removes the
 *   temp files of writers that are gone (see orphans.ts).
 * - save() appends the events (fsync) BEFORE it writes the state. By the time a command saves, it
 *   has already changed the target; if it dies between the two writes, history still tells what
 *   was done to the target and the next command reports the lagging state as drift (the target is
 *   the truth, SPEC §3). The other order would lose the event silently. A failed state write that
 *   is not a crash truncates the history back, so save() stays all-or-nothing.
 * - A line counts only once its newline is written: an unterminated last line (a torn append) is
 *   ignored on read and cut off by the next append.
 * - The version compare-and-set runs under `<name>.saving`, a lock file held for the few
 *   milliseconds of a save, so two writers cannot both read version n and both write n+1.
 */
import { link, mkdir, open, readdir, readFile, rename, truncate, unlink, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, RolloutError, StateCorruptError, StateStoreError } from '../errors.js';
import { literal, removeOrphans } from '../orphans.js';
import { processSecrets } from '../plan/secrets.js';
import { syncDirectory } from '../sync-directory.js';
import { isErrno, readRegularFile, siblingPath, writeAtomic } from './file-io.js';
import { createFileRequests } from './file-requests.js';
import { createFileSampleLog } from './file-samples.js';
import { DEFAULT_LEASE_MS, holdLock, isHolderGone, lockedError, lockHolder, staleWriteError } from './actor.js';
import { parseStoredEvent, parseStoredState } from './parse-stored.js';
import {
  type HistoryEvent,
  type Lock,
  type LockHolder,
  type RolloutState,
  type SaveOptions,
  type StateStore,
  type StoredRollout,
} from './types.js';

/** Where the file store keeps one rollout. */
export interface FileStoreOptions {
  /** The state directory (`.rollout/` beside the plan, or `--state-dir`); created on first write. */
  dir: string;
  /** The rollout's name, the stem of its files. */
  plan: string;
  /** A lock whose file was not refreshed for this long is stale even if its pid cannot be checked. */
  leaseMs?: number;
}

// A save holds `<name>.saving` for milliseconds; one older than this was left by a crash.
const SAVE_LEASE_MS = 30_000;
// How long a save waits for another save to finish before it gives up (or, forced, takes over).
const SAVE_WAIT_MS = 10_000;

/** Wraps a store method so a file-system failure (EACCES, ENOSPC…) is a StateStoreError, not a crash. */
function guard<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (err) {
      if (err instanceof RolloutError) throw err;
      // Node's messages already name the path and the syscall.
      throw new StateStoreError(
        `cannot use the state directory: ${(err as Error).message}`,
        'check that the state directory (--state-dir) is writable and its disk is not full',
      );
    }
  };
}

/** A lock file's content and age; one that is not a regular file holds no holder, so it can be evicted. */
async function readLockFile(path: string): Promise<{ raw: string; ageMs: number } | undefined> {
  const read = await readRegularFile(path);
  return read === 'notRegular' ? { raw: '', ageMs: 0 } : read;
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockHolder> | null;
    return typeof value?.pid === 'number' && typeof value.host === 'string' ? (value as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the lock file at `path` if its content is still `raw`, atomically: it is renamed aside
 * first, so a lock someone else created meanwhile is never deleted but put back (link() refuses to
 * overwrite a newer one). Returns whether `raw` was removed.
 */
async function evictLockFile(path: string, raw: string): Promise<boolean> {
  const grave = siblingPath(path, 'evicted');
  try {
    await rename(path, grave);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
  try {
    if (((await readLockFile(grave))?.raw ?? '') === raw) return true;
    await link(grave, path).catch((err: unknown) => {
      if (!isErrno(err, 'EEXIST')) throw err;
    });
    return false;
  } finally {
    await unlink(grave);
  }
}

/**
 * Takes the lock file at `path` for `holder`. It is created by link() from a complete temp file,
 * so it never exists half-written. Stale locks (holder's process gone from this host, or not
 * refreshed for `leaseMs`) are removed; live ones throw ConflictError unless `takeOver`.
 * No fsync: after a power loss every holder is gone, so a lock file that survives is stale anyway.
 */
async function acquireLockFile(
  path: string,
  holder: LockHolder,
  leaseMs: number,
  takeOver: boolean,
): Promise<{ raw: string; tookOverFrom?: LockHolder }> {
  const raw = JSON.stringify(holder);
  const tmp = siblingPath(path, 'tmp');
  await writeFile(tmp, raw, { flag: 'wx' });
  let tookOverFrom: LockHolder | undefined;
  try {
    // Each round either takes the lock or removes a holder; a few rounds settle any race.
    for (let round = 0; round < 10; round++) {
      try {
        await link(tmp, path);
        return tookOverFrom ? { raw, tookOverFrom } : { raw };
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
      }
      const current = await readLockFile(path);
      if (!current) continue;
      const other = parseHolder(current.raw);
      // A lock file that is not a holder cannot be waited for: nobody will release it.
      const stale = !other || isHolderGone(other) || current.ageMs > leaseMs;
      if (!stale && !takeOver) throw lockedError(other);
      if ((await evictLockFile(path, current.raw)) && !stale) tookOverFrom = other;
    }
    throw new ConflictError(`could not take the lock ${path}: it kept changing hands`, 'try again');
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** The length of `fh` up to and including its last newline: the part that holds whole lines. */
async function committedLength(fh: FileHandle, size: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await fh.read(chunk, 0, end - start, start);
    const newline = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (newline >= 0) return start + newline + 1;
    end = start;
  }
  return 0;
}

/** Creates the file store for one rollout; see the module comment for its guarantees. */
export function createFileStore(options: FileStoreOptions): StateStore {
  const { dir, plan } = options;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const statePath = join(dir, `${plan}.json`);
  const historyPath = join(dir, `${plan}.history.jsonl`);
  const lockPath = join(dir, `${plan}.lock`);
  const savingPath = join(dir, `${plan}.saving`);
  const refreshes = new Set<() => void>();
  // siblingPath() names of this rollout's files (temp and evicted copies), which carry the writer's pid.
  const orphanPattern = new RegExp(`^${literal(plan)}\\.(json|lock|saving|samples\\.jsonl)\\.(?<pid>\\d+)\\.[0-9a-f]+\\.(tmp|evicted)$`);

  async function load(): Promise<RolloutState | undefined> {
    const read = await readRegularFile(statePath);
    if (read === undefined) return undefined;
    const aside = `move ${statePath} aside`;
    if (read === 'notRegular') throw new StateCorruptError(`${statePath} is not a regular file`, aside);
    const raw = read.raw;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new StateCorruptError(`${statePath} is not valid JSON: ${(err as Error).message}`, aside);
    }
    return parseStoredState(value, statePath, aside);
  }

  /** Appends events as whole lines, first cutting off a torn last line; returns the prior length. */
  async function appendEvents(events: HistoryEvent[]): Promise<number> {
    const lines = processSecrets
      .redactDeep(events)
      .map((e) => `${JSON.stringify(e)}\n`)
      .join('');
    const fh = await open(historyPath, 'a+');
    try {
      const { size } = await fh.stat();
      const length = await committedLength(fh, size);
      if (length < size) await fh.truncate(length);
      if (lines) {
        await fh.appendFile(lines);
        await fh.sync();
      }
      if (size === 0) await syncDirectory(dir);
      return length;
    } finally {
      await fh.close();
    }
  }

  /** Runs `write` holding `<name>.saving`; a forced save takes it from a writer that seems hung. */
  async function underSaveLock<T>(force: boolean, write: () => Promise<T>): Promise<T> {
    await mkdir(dir, { recursive: true });
    const holder = lockHolder('save');
    const deadline = Date.now() + SAVE_WAIT_MS;
    let raw: string;
    for (;;) {
      try {
        ({ raw } = await acquireLockFile(savingPath, holder, SAVE_LEASE_MS, false));
        break;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        if (Date.now() >= deadline) {
          if (!force) throw err;
          ({ raw } = await acquireLockFile(savingPath, holder, SAVE_LEASE_MS, true));
          break;
        }
        // Jitter keeps a crowd of waiting writers from retrying in lockstep.
        await sleep(2 + Math.random() * 10);
      }
    }
    try {
      return await write();
    } finally {
      await evictLockFile(savingPath, raw);
    }
  }

  async function save(next: RolloutState, events: HistoryEvent[], saveOptions: SaveOptions = {}): Promise<void> {
    const force = saveOptions.force ?? false;
    await underSaveLock(force, async () => {
      let version = next.version;
      if (force) {
        const stored = await load().catch((err: unknown) => {
          if (err instanceof StateCorruptError) return undefined;
          throw err;
        });
        version = Math.max(next.version, (stored?.version ?? 0) + 1);
      } else if (next.version !== ((await load())?.version ?? 0) + 1) {
        throw staleWriteError(plan, next.version);
      }
      const historyLength = await appendEvents(events);
      try {
        await writeAtomic(statePath, `${JSON.stringify(processSecrets.redactDeep({ ...next, version }), null, 2)}\n`);
      } catch (err) {
        // The state was not replaced, so its events go too. Best effort: if even this fails, the
        // events stay, as after a crash at this point.
        await truncate(historyPath, historyLength).catch(() => undefined);
        throw err;
      }
      // After the rename the new state stands with its events; only its durability is left.
      await syncDirectory(dir);
    });
  }

  async function append(events: HistoryEvent[]): Promise<void> {
    if (events.length > 0) await underSaveLock(false, () => appendEvents(events));
  }

  async function history(): Promise<HistoryEvent[]> {
    let raw: string;
    try {
      raw = await readFile(historyPath, 'utf8');
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      return [];
    }
    const lines = raw.split('\n');
    // The last piece is '' after a newline, or a torn append, which never counted.
    lines.pop();
    const aside = `move ${historyPath} aside`;
    const events: HistoryEvent[] = [];
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '') continue;
      const where = `${historyPath}:${i + 1}`;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new StateCorruptError(`${where} is not valid JSON: ${(err as Error).message}`, aside);
      }
      events.push(await parseStoredEvent(value, where, aside));
    }
    return events;
  }

  async function lock(holder: LockHolder, lockOptions: { takeOver?: boolean } = {}): Promise<Lock> {
    await mkdir(dir, { recursive: true });
    const { raw, tookOverFrom } = await acquireLockFile(lockPath, holder, leaseMs, lockOptions.takeOver ?? false);
    await removeOrphans(dir, orphanPattern);
    return holdLock({
      holder,
      tookOverFrom,
      leaseMs,
      refreshes,
      // The lock file's mtime is the lease: touching it tells other hosts the holder is alive.
      refresh: async () => {
        if ((await readLockFile(lockPath))?.raw !== raw) return;
        const now = new Date();
        await utimes(lockPath, now, now);
      },
      // Only our own lock: after a takeover it belongs to someone else.
      remove: guard(async () => {
        await evictLockFile(lockPath, raw);
      }),
    });
  }

  async function holder(): Promise<LockHolder | undefined> {
    const current = await readLockFile(lockPath);
    const other = current && parseHolder(current.raw);
    return other && !isHolderGone(other) && current.ageMs <= leaseMs ? other : undefined;
  }

  async function list(): Promise<StoredRollout[]> {
    let names: string[];
    try {
      names = (await readdir(dir)).flatMap((file) => /^([a-z0-9][a-z0-9-]*)\.json$/.exec(file)?.[1] ?? []);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw err;
    }
    return Promise.all(names.sort().map((name) => describeStored(name, name === plan ? store : createFileStore({ dir, plan: name, leaseMs }))));
  }

  // The poll log (file-samples.ts) writes under the save lock, so it never races a save's files.
  const sampleLog = createFileSampleLog({ dir, plan, exclusive: (write) => underSaveLock(false, write), replace: writeAtomic });
  const requests = createFileRequests(dir, plan);
  const store: StateStore = {
    dir,
    load: guard(load),
    save: guard(save),
    append: guard(append),
    history: guard(history),
    appendSamples: guard(sampleLog.appendSamples),
    samples: guard(sampleLog.samples),
    lock: guard(lock),
    holder: guard(holder),
    list: guard(list),
    postRequest: guard(requests.postRequest),
    takeRequests: guard(requests.takeRequests),
    answer: guard(requests.answer),
    takeAnswer: guard(requests.takeAnswer),
    withdrawRequest: guard(requests.withdrawRequest),
    async close() {
      for (const stop of refreshes) stop();
      refreshes.clear();
    },
  };
  return store;
}

/** One rollout of a listing: unreadable state is a problem of that rollout, not of the listing. */
async function describeStored(name: string, store: Pick<StateStore, 'load' | 'holder'>): Promise<StoredRollout> {
  const [state, holder] = await Promise.all([
    store.load().then(
      (value) => ({ value }),
      (err: unknown) => ({ problem: err instanceof Error ? err.message : String(err) }),
    ),
    store.holder().catch(() => undefined),
  ]);
  return { name, ...('value' in state ? (state.value ? { state: state.value } : {}) : { problem: state.problem }), ...(holder ? { holder } : {}) };
}
