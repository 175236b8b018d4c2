/**
 * Writes of `command` targets in flight. A `set` program runs in its own process group and
 * outlives a command killed with -9; recorded here (per user, keyed by the target's `set` argv),
 * it can be found and ended by a later command before that command declares the target settled.
 * Records hold process ids and times only, never the argv (it may carry secrets).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIR = join(tmpdir(), `rollout-in-flight-${process.getuid?.() ?? 'user'}`);
/** How long ending a write waits for its process group to be gone. */
const END_WAIT_MS = 5_000;

interface InFlightRecord {
  /** The process of the rollout command that started the write. */
  owner: number;
  /** The write's process group. */
  group: number;
  startedAt: number;
}

/** The key of a target's writes: its `set` argv, hashed. */
export function inFlightKey(argv: string[]): string {
  return createHash('sha256').update(JSON.stringify(argv)).digest('hex').slice(0, 24);
}

/** Records a write running as process group `group`; returns the function that clears the record. */
export function recordInFlight(key: string, group: number): () => void {
  const file = join(DIR, `${key}.${group}.json`);
  const record: InFlightRecord = { owner: process.pid, group, startedAt: Date.now() };
  mkdirSync(DIR, { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(record), { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

function alive(pid: number, group = false): boolean {
  try {
    process.kill(group ? -pid : pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Ends the recorded writes of `key` that are still running: every one (`all`, the emergency), or
 * only orphans whose owner is gone. Resolves once their process groups have exited; returns how
 * many were ended.
 */
export async function endInFlight(key: string, which: 'all' | 'orphans'): Promise<number> {
  let names: string[];
  try {
    names = readdirSync(DIR).filter((n) => n.startsWith(`${key}.`));
  } catch {
    return 0;
  }
  let ended = 0;
  for (const name of names) {
    const file = join(DIR, name);
    let record: InFlightRecord;
    try {
      record = JSON.parse(readFileSync(file, 'utf8')) as InFlightRecord;
    } catch {
      rmSync(file, { force: true });
      continue;
    }
    if (record.owner === process.pid) continue;
    if (alive(record.group, true) && (which === 'all' || !alive(record.owner))) {
      try {
        process.kill(-record.group, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
      const until = Date.now() + END_WAIT_MS;
      while (alive(record.group, true) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      ended++;
    }
    if (!alive(record.group, true)) rmSync(file, { force: true });
  }
  return ended;
}
