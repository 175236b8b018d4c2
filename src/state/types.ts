/** A rollout's state and history (SPEC §3), and the store that keeps them. */
import type { EventAction } from '../plan/types.js';

/** One history event; append-only. Secrets are redacted before an event is written. */
export interface HistoryEvent {
  /** ISO-8601 time. */
  time: string;
  plan: string;
  actor: string;
  action: EventAction;
  /** Percentage before and after. */
  from: number;
  to: number;
  verdict?: 'healthy' | 'hold' | 'critical' | 'skipped';
  /** Metric name → value at the time (null when it read as nodata). */
  metrics: Record<string, number | null>;
  reason: string;
}

/** The current state of one rollout. */
export interface RolloutState {
  plan: string;
  /** Index into plan.stages; -1 before the first stage is applied. */
  stageIndex: number;
  /** The percentage last applied to the target. */
  percent: number;
  /** ms since epoch when the current stage was entered (its bake starts here). */
  enteredAt: number;
  /** Set while paused by hand. */
  paused?: { reason: string; by: string; at: number };
  /** Consecutive critical polls in this stage. */
  consecutiveCritical: number;
  /** ms since epoch when the current hold began (for `maxHold`). */
  holdingSince?: number;
  /** True once the last stage is applied and its bake is done. */
  completed: boolean;
  /** True after a rollback; `advance` starts again from there. */
  rolledBack: boolean;
  /** Incremented by every write; stores compare-and-set on it. */
  version: number;
}

/** The holder of a rollout's lock. */
export interface LockHolder {
  actor: string;
  pid: number;
  host: string;
  /** ISO-8601 time the lock was taken. */
  since: string;
  command: string;
}

/** A held lock; release it when the command ends. */
export interface Lock {
  readonly holder: LockHolder;
  /** Whom the lock was taken from by `takeOver`, if anyone. */
  readonly tookOverFrom?: LockHolder;
  release(): Promise<void>;
}

/**
 * Where state and history live. Implemented by the file store (default) and the PostgreSQL store,
 * with identical semantics; the store-contract tests run against both.
 */
export interface StateStore {
  /** The state, or undefined when the rollout has not started. Corrupt state is a StateCorruptError. */
  load(): Promise<RolloutState | undefined>;
  /**
   * Writes `next` (whose version must be the loaded version + 1) and appends `events`, atomically.
   * A version mismatch throws ConflictError: another writer got there first.
   */
  save(next: RolloutState, events: HistoryEvent[]): Promise<void>;
  /** Appends events without changing state (e.g. a hold, drift). */
  append(events: HistoryEvent[]): Promise<void>;
  history(): Promise<HistoryEvent[]>;
  /**
   * Takes the rollout's lock, or throws ConflictError naming the holder. With `takeOver`, a lock
   * held by someone else is taken from them (`rollback --emergency`). Stale locks (process gone,
   * lease expired) are taken silently.
   */
  lock(holder: LockHolder, options?: { takeOver?: boolean }): Promise<Lock>;
  /** Where extra per-rollout files (the exposition scrape) may be kept; undefined for remote stores. */
  readonly dir?: string;
  close(): Promise<void>;
}
