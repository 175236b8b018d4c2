/**
 * What the state-changing commands share: opening a rollout (plan, store, target), holding its
 * lock, reading and judging the metrics, and committing a change so that target and state never
 * disagree: apply, then record; if recording fails, the target is put back.
 */
import { join } from 'node:path';
import type { Judgement } from '../analysis/judge.js';
import { judgeStagePoll } from '../analysis/judge-stage.js';
import { ExitCode, StateCorruptError, TargetError } from '../errors.js';
import { notifyEvent, type Delivery } from '../notify/notify.js';
import type { EventAction, Plan } from '../plan/types.js';
import type { MetricSource } from '../sources/source.js';
import { detectActor, lockHolder, staleWriteError } from '../state/actor.js';
import { createStore } from '../state/create-store.js';
import type { HistoryEvent, Lock, LockHolder, RolloutState, StateStore } from '../state/types.js';
import { createTarget } from '../targets/create-target.js';
import type { Target } from '../targets/target.js';
import type { CommandContext, CommonOptions } from './context.js';
import { loadPlanForCommand } from './load.js';

/** An opened rollout: its plan, where its state lives, and its target. */
export interface Rollout {
  plan: Plan;
  store: StateStore;
  target: Target;
  /** Where local files (state for the file backend, exposition scrapes) live. */
  stateDir: string;
  /** Reads and judges the metrics, with sources kept for the whole command. */
  meter: Meter;
  close(): Promise<void>;
}

/** Options of commands that touch state. */
export interface StateOptions extends CommonOptions {
  /** `--state postgres://…` overrides the plan's state block. */
  state?: string;
}

/** `.rollout/` beside the plan, unless `--state-dir` says otherwise. */
export function stateDirOf(plan: Plan, options: Pick<CommonOptions, 'stateDir'>): string {
  return options.stateDir ?? join(plan.dir, '.rollout');
}

/** Opens the plan's state store: the plan's `state` block, `--state`, `--state-dir`, ROLLOUT_STATE_URL. */
export function openStore(plan: Plan, options: StateOptions, ctx: Pick<CommandContext, 'env'>): Promise<StateStore> {
  return createStore({ backend: plan.state.backend, url: options.state ?? plan.state.url, dir: stateDirOf(plan, options), plan: plan.name, env: ctx.env });
}

/** Loads the plan and reads its history (no target, no sources: history and report need neither). */
export async function readHistory(options: StateOptions, ctx: CommandContext): Promise<{ plan: Plan; events: HistoryEvent[] }> {
  const plan = await loadPlanForCommand(options.plan, ctx);
  const store = await openStore(plan, options, ctx);
  try {
    return { plan, events: await store.history() };
  } finally {
    await store.close();
  }
}

/** Loads the plan and opens its store and target. Call `close()` when done. */
export async function openRollout(options: StateOptions, ctx: CommandContext): Promise<Rollout> {
  const plan = await loadPlanForCommand(options.plan, ctx);
  const stateDir = stateDirOf(plan, options);
  const store = await openStore(plan, options, ctx);
  return { plan, store, stateDir, target: createTarget(plan.target), meter: createMeter(plan, stateDir, ctx), close: () => store.close() };
}

/** Runs `fn` holding the rollout's lock (exit 5 naming the holder when someone else has it). */
export function withLock<T>(
  rollout: Rollout,
  command: string,
  ctx: CommandContext,
  fn: (lock: Lock) => Promise<T>,
  options: { takeOver?: boolean } = {},
): Promise<T> {
  return withStoreLock(rollout.store, lockHolder(command, ctx.env, ctx.clock), ctx, fn, options);
}

/**
 * Runs `fn` holding `store`'s lock as `holder`. A release that fails (the database went away) is a
 * warning: what `fn` did, or why it failed, is what the user must see, and the lock left behind
 * lapses by itself once this process has exited or its lease has expired.
 */
export async function withStoreLock<T>(
  store: StateStore,
  holder: LockHolder,
  ctx: Pick<CommandContext, 'out'>,
  fn: (lock: Lock) => Promise<T>,
  options: { takeOver?: boolean } = {},
): Promise<T> {
  const lock = await store.lock(holder, options);
  try {
    return await fn(lock);
  } finally {
    await releaseQuietly(lock, ctx);
  }
}

/** Releases `lock`; a failure is a warning, since the lock lapses once this process has exited or its lease has expired. */
export async function releaseQuietly(lock: Pick<Lock, 'release'>, ctx: Pick<CommandContext, 'out'>): Promise<void> {
  await lock.release().catch((err: unknown) => {
    ctx.out.error(`warning: the lock was not released (${err instanceof Error ? err.message : String(err)}); it lapses once this process has exited or its lease has expired`);
  });
}

/** Reads state without the lock; unreadable state is a warning and only costs the warm-up information. */
export async function peekState(store: StateStore, ctx: Pick<CommandContext, 'out'>): Promise<RolloutState | undefined> {
  try {
    return await store.load();
  } catch (err) {
    if (!(err instanceof StateCorruptError)) throw err;
    ctx.out.error(`warning: ${err.message} (${err.hint})`);
    return undefined;
  }
}

/** The exit code a verdict maps to (check, status --exit-code). */
export function verdictExitCode(judgement: Judgement): 0 | 3 | 4 {
  return judgement.verdict === 'healthy' ? ExitCode.ok : judgement.verdict === 'hold' ? ExitCode.held : ExitCode.critical;
}

/** Reads and judges a plan's metrics, one poll per call. */
export interface Meter {
  judge(state: RolloutState | undefined): Promise<Judgement>;
}

/**
 * A meter for `plan`. The sources are built on the first poll and kept, so `run` does not re-read
 * the exposition scrape file or re-parse expressions every poll, and a command that never polls
 * never loads the source modules.
 */
export function createMeter(plan: Plan, stateDir: string, ctx: Pick<CommandContext, 'clock' | 'signal'>): Meter {
  let sources: Promise<{ readPoll: typeof import('../sources/read-metrics.js').readPoll; sources: Record<string, MetricSource> }> | undefined;
  return {
    async judge(state) {
      sources ??= import('../sources/read-metrics.js').then((m) => ({ readPoll: m.readPoll, sources: m.createSources(plan, { scrapeDir: stateDir, clock: ctx.clock }) }));
      const { readPoll, sources: built } = await sources;
      const poll = await readPoll(plan, built, { signal: ctx.signal });
      return judgeStagePoll(plan, poll, state, ctx.clock.now());
    },
  };
}

/** A history event stamped with now and the actor; metric values come from the judgement. */
export function historyEvent(
  plan: Plan,
  ctx: Pick<CommandContext, 'env' | 'clock'>,
  fields: { action: EventAction; from: number; to: number; reason: string; judgement?: Judgement; verdict?: HistoryEvent['verdict'] },
): HistoryEvent {
  const metrics: Record<string, number | null> = {};
  for (const r of fields.judgement?.readings ?? []) metrics[r.name] = r.status === 'nodata' ? null : (r.value ?? null);
  return {
    time: new Date(ctx.clock.now()).toISOString(),
    plan: plan.name,
    actor: detectActor(ctx.env),
    action: fields.action,
    from: fields.from,
    to: fields.to,
    verdict: fields.verdict ?? fields.judgement?.verdict,
    metrics,
    reason: plan.secrets.redact(fields.reason),
  };
}

/**
 * Sends each event to the plan's receivers that subscribe to it. A failed delivery is a warning on
 * stderr, never an error: the change it reports has already happened.
 */
export async function notifyEvents(plan: Plan, events: HistoryEvent[], ctx: Pick<CommandContext, 'out'>): Promise<Delivery[]> {
  const deliveries = (await Promise.all(events.map((event) => notifyEvent(plan, event)))).flat();
  for (const d of deliveries) if (!d.ok) ctx.out.error(`warning: notification to ${d.type} ${d.to} failed: ${d.error}`);
  return deliveries;
}

/** A change to commit: the percentage before and after, the state after, and its events. */
export interface Change {
  from: number;
  to: number;
  next: RolloutState;
  events: HistoryEvent[];
  /** Emergency: skip the state version check (state may be corrupt or raced). */
  force?: boolean;
  /** Apply even when `from` equals `to` (an emergency always writes the target). */
  alwaysApply?: boolean;
  /**
   * A rollback moves towards safety: if it fails halfway, putting the target back to the bad
   * percentage would be worse than the disagreement, which the next command reports as drift.
   */
  towardsSafety?: boolean;
}

/**
 * Checks that state is still as the command read it (which also shows the store answers), applies
 * `change.to` to the target, then records state and events. The apply is not given the
 * abort signal: an interrupted command finishes the write in flight, so target and state agree.
 * If the apply or the record fails, the target is put back (best effort) to `from`, or to what
 * state says if it was saved meanwhile, and the error says where things stand.
 */
export async function commitChange(rollout: Rollout, change: Change): Promise<void> {
  const touchesTarget = change.alwaysApply || change.from !== change.to;
  if (touchesTarget && !change.force) await checkUnchanged(rollout, change);
  if (touchesTarget) {
    try {
      await rollout.target.apply(change.to);
    } catch (err) {
      throw await withRevert(rollout, change, err, 'applying');
    }
  }
  try {
    await rollout.store.save(change.next, change.events, { force: change.force });
  } catch (err) {
    if (!touchesTarget) throw err;
    throw await withRevert(rollout, change, err, 'recording');
  }
}

/**
 * The target moves only if the change can be recorded: a store that cannot be reached, or state
 * saved meanwhile by a command that took the lock over, fails here with the target untouched
 * instead of after it was moved and then put back. A rollback still goes ahead without a store,
 * since less exposure unrecorded beats more exposure; the next command reports the drift.
 */
async function checkUnchanged(rollout: Rollout, change: Change): Promise<void> {
  let stored: RolloutState | undefined;
  try {
    stored = await rollout.store.load();
  } catch (err) {
    if (change.towardsSafety) return;
    throw err;
  }
  if ((stored?.version ?? 0) !== change.next.version - 1) throw staleWriteError(rollout.plan.name, change.next.version);
}

async function withRevert(rollout: Rollout, change: Change, cause: unknown, step: string): Promise<Error> {
  const message = cause instanceof Error ? cause.message : String(cause);
  // State saved since this command read it means a command that took the lock over (rollback
  // --emergency) set the target itself, or this save committed after all: the target follows
  // state, since putting back `from` would undo that.
  const stored = await rollout.store.load().catch(() => undefined);
  const moved = stored !== undefined && stored.version >= change.next.version;
  const back = moved ? stored.percent : change.from;
  let outcome: string;
  if (change.towardsSafety && !moved) {
    outcome = `the target was left where this attempt got it, not put back to ${back}%; rerun the rollback, or use --emergency`;
  } else try {
    await rollout.target.apply(back);
    outcome = moved ? `state changed meanwhile (now ${back}%), and the target was set to match it` : `the target was put back to ${back}%; state is unchanged`;
  } catch (revertError) {
    outcome = `putting the target back to ${back}% failed too (${revertError instanceof Error ? revertError.message : String(revertError)}); the next command will report the drift`;
  }
  const text = rollout.plan.secrets.redact(`${step} ${change.to}% failed: ${message} — ${outcome}`);
  if (cause instanceof TargetError) return new TargetError(text, cause.hint);
  // A store failure keeps its own class (conflict, store error) and exit code.
  if (cause instanceof Error) {
    cause.message = text;
    return cause;
  }
  return new TargetError(text);
}
