/**
 * What the fault-injection suites share: reproducible randomness, temp dirs, and a direct look at
 * the file store, so that a suite checks what a command left behind without going through the
 * command it is checking.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileStore } from '../../src/state/file-store.js';
import type { HistoryEvent, RolloutState } from '../../src/state/types.js';

/** A seeded PRNG (mulberry32): the same seed replays the same run of faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed of a randomized suite: `FAULT_SEED` to replay a failure, else a fresh one. It is
 * printed so that a failing CI run can be replayed exactly.
 */
export function suiteSeed(suite: string): number {
  const fromEnv = Number(process.env.FAULT_SEED);
  const seed = Number.isInteger(fromEnv) && process.env.FAULT_SEED ? fromEnv : Math.floor(Math.random() * 2 ** 31);
  console.log(`${suite}: seed ${seed} (replay with FAULT_SEED=${seed})`);
  return seed;
}

/** A fresh directory under the OS temp dir. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `rollout-${prefix}-`));
}

/** State and history as the file store reads them; a throw here means they are unreadable. */
export async function readStore(stateDir: string, plan: string): Promise<{ state: RolloutState | undefined; history: HistoryEvent[] }> {
  const store = createFileStore({ dir: stateDir, plan });
  try {
    return { state: await store.load(), history: await store.history() };
  } finally {
    await store.close();
  }
}
