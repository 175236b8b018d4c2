/**
 * Opening one rollout: its plan, where its state lives, its target and its meter; and holding its
 * lock. Commands call `openRollout` (or `openStore` when they only read) and `withLock`.
 */
import { join } from 'node:path';
import type { CommandContext, CommonOptions } from '../context.js';
import { StateCorruptError } from '../errors.js';
import { showWaits } from '../cli/progress.js';
import type { Plan, TargetConfig } from '../plan/types.js';
import { lockHolder } from '../state/actor.js';
import { createStore } from '../state/create-store.js';
import type { HistoryEvent, Lock, LockHolder, RolloutState, StateStore } from '../state/types.js';
import { createTarget } from '../targets/create-target.js';
import type { Target } from '../targets/target.js';
import { reportingInterruption } from './interruption.js';
import { createMeter, type Meter } from './meter.js';
import { loadPlanForCommand } from './plan.js';

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
export function openStore(plan: Plan, options: StateOptions, ctx: Pick<CommandContext, 'env' | 'world'>): Promise<StateStore> {
  const open = ctx.world?.createStore ?? createStore;
  return open({ backend: plan.state.backend, url: options.state ?? plan.state.url, dir: stateDirOf(plan, options), plan: plan.name, env: ctx.env });
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

/** The target `config` names, showing its network waits on the command's progress line. */
export function buildTarget(config: TargetConfig, ctx: Pick<CommandContext, 'world' | 'progress'>): Promise<Target> {
  return (ctx.world?.createTarget ?? createTarget)(config, { onWait: showWaits(ctx.progress) });
}

/** Loads the plan and opens its store and target. Call `close()` when done. */
export async function openRollout(options: StateOptions, ctx: CommandContext): Promise<Rollout> {
  const plan = await loadPlanForCommand(options.plan, ctx);
  const stateDir = stateDirOf(plan, options);
  const store = await openStore(plan, options, ctx);
  const target = await buildTarget(plan.target, ctx);
  return { plan, store, stateDir, target, meter: createMeter(plan, stateDir, ctx), close: () => store.close() };
}

/**
 * Opens the rollout, runs `fn` holding its lock as `command`, and closes it: what every
 * state-changing command does. Interrupted, it ends with exit 130 saying where things stand.
 */
export async function withLockedRollout<T>(options: StateOptions, ctx: CommandContext, command: string, fn: (rollout: Rollout) => Promise<T>): Promise<T> {
  const rollout = await openRollout(options, ctx);
  try {
    const spelling = { plan: options.plan, stateDir: options.stateDir };
    return await withLock(rollout, command, ctx, () => reportingInterruption(rollout, command, spelling, ctx, () => fn(rollout)));
  } finally {
    await rollout.close();
  }
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
