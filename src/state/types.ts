/**
 * A rollout's state and history (SPEC §3), and the store that keeps them. Stored values are
 * checked on read by parse-stored.ts, with the shapes of state-schemas.ts.
 */
import type { EventCounts } from '../readings.js';
import type { EventAction, PlanRecord } from '../plan/types.js';
import type { MetricSample } from './samples.js';

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

/** An event's move in words: "10% → 25%", or "at 25%" when the percentage did not change. */
export function describeMove(event: Pick<HistoryEvent, 'from' | 'to'>): string {
  return event.from === event.to ? `at ${event.to}%` : `${event.from}% → ${event.to}%`;
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
  /**
   * The last reading that was not healthy (critical, warning, no data) in this stage: the bake
   * counts healthy time, so it runs from here when this is later than `enteredAt`.
   */
  bakeRestart?: { at: number; reason: string };
  /** The plan's stage percentages when this state was written: a plan edited under a started rollout is noticed. */
  stages?: number[];
  /**
   * Set by `rollback --emergency` before it touches the target: the fence. Any other writer that
   * finds it stops, and a write of theirs that lands anyway is put back to 0 %.
   */
  emergency?: { by: string; at: number; command: string };
  /** The plan's target as written, its path and hash: `rollback --emergency --name` runs from it without the plan. */
  planRecord?: PlanRecord;
  /** Incremented by every write; stores compare-and-set on it. */
  version: number;
  /** Counts of the comparison metrics since the stage began; `run` adds each poll's. */
  evidence?: StageEvidence;
}

/** What the comparison metrics have counted in one stage (analysis/compare/). */
export interface StageEvidence {
  /** The stage counted in; evidence of another stage is not used. */
  stageIndex: number;
  percent: number;
  /** ms since epoch of the last poll counted. */
  lastAt?: number;
  /** Metric name → its counts since the stage began. */
  counts: Record<string, EventCounts>;
}

/**
 * A change to commit (rollout/commit.ts): the percentage before and after, the state after, and
 * its events. Commands and the run loop build these; only the commit path carries them out.
 */
export interface Change {
  from: number;
  to: number;
  next: RolloutState;
  events: HistoryEvent[];
  /** Apply even when `from` equals `to` (an emergency always writes the target). */
  alwaysApply?: boolean;
  /**
   * A rollback moves towards safety: if it fails halfway, putting the target back to the bad
   * percentage would be worse than the disagreement, which the next command reports as drift.
   */
  towardsSafety?: boolean;
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

/** One rollout found in a store: its state (or why it cannot be read) and its lock holder. */
export interface StoredRollout {
  name: string;
  state?: RolloutState;
  /** Why the state could not be read. */
  problem?: string;
  holder?: LockHolder;
}

/**
 * A request to the `run` holding a rollout's lock, from another command (issue 17): the run takes
 * it at its next poll and acts on it itself, recording the requester as the actor.
 */
export interface RunRequest {
  /** Unique; sorts by posting time. */
  id: string;
  kind: 'hold' | 'resume' | 'approve' | 'rollback';
  /** The requester, recorded as the actor of what the run does for them. */
  by: string;
  reason?: string;
  /** For a rollback: 0, a stage's percentage, or `previous`; the plan's `rollback.to` when absent. */
  to?: number | 'previous';
  /** ms since epoch. */
  at: number;
}

/** The run's answer to a request: what it did, or why it did not. */
export interface RequestAnswer {
  id: string;
  applied: boolean;
  message: string;
  /** The exit code the requesting command ends with. */
  exitCode: number;
}

/** How `save` treats what is already stored. */
export interface SaveOptions {
  /**
   * For `rollback --emergency`, which must work when state is corrupt or another writer raced it:
   * skips the version compare-and-set and overwrites unreadable state. The version written is
   * max(next.version, stored version + 1), so a writer that loaded before the forced write still
   * gets ConflictError on its next save instead of silently undoing the emergency.
   */
  force?: boolean;
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
   * With `{ force: true }` see SaveOptions: no version check, and corrupt state is overwritten.
   */
  save(next: RolloutState, events: HistoryEvent[], options?: SaveOptions): Promise<void>;
  /** Appends events without changing state (e.g. a hold, drift). */
  append(events: HistoryEvent[]): Promise<void>;
  history(): Promise<HistoryEvent[]>;
  /** Appends polls to the poll log (state/samples.ts), compacting it beyond its cap; redacted like history. */
  appendSamples(samples: MetricSample[]): Promise<void>;
  /** The poll log, oldest first; damaged entries are left out. */
  samples(): Promise<MetricSample[]>;
  /**
   * Takes the rollout's lock, or throws ConflictError naming the holder. With `takeOver`, a lock
   * held by someone else is taken from them (`rollback --emergency`). Stale locks (process gone,
   * lease expired) are taken silently.
   */
  lock(holder: LockHolder, options?: { takeOver?: boolean }): Promise<Lock>;
  /** Who holds the rollout's lock now; undefined when nobody does (or the holder is gone, or its lease expired). */
  holder(): Promise<LockHolder | undefined>;
  /** Every rollout kept in the same place as this one (the state dir, or the database), by name. */
  list(): Promise<StoredRollout[]>;
  /** Posts a request for the run holding the lock. */
  postRequest(request: RunRequest): Promise<void>;
  /** Takes the requests nobody took yet, oldest first; each is taken by one caller only. */
  takeRequests(): Promise<RunRequest[]>;
  /** Answers a taken request. */
  answer(answer: RequestAnswer): Promise<void>;
  /** The answer to request `id` once there is one (removed as it is read), else undefined. */
  takeAnswer(id: string): Promise<RequestAnswer | undefined>;
  /** Withdraws request `id` unless it was taken; true when withdrawn. */
  withdrawRequest(id: string): Promise<boolean>;
  /** Where extra per-rollout files (the exposition scrape) may be kept; undefined for remote stores. */
  readonly dir?: string;
  /** Stops lease refreshes and closes connections. Held locks are not released: release them first. */
  close(): Promise<void>;
}

/** What `newRequest` makes an id of: it names files, so nothing else is accepted. */
export const requestIdPattern = /^[0-9a-z]{9}-[0-9a-f]{8}$/;
