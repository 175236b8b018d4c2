/**
 * `rollout rollback [plan]`: applies `rollback.to` (or `--to N`) after confirmation.
 * `--emergency`: 0 %, no prompt, no metric reads, takes over a held lock, runs the target's
 * emergency actions and notifies — and still works when metrics, the lock or state are broken.
 */
import { ExitCode, RolloutError, StateCorruptError, TargetError, UsageError } from '../errors.js';
import { lockHolder } from '../state/actor.js';
import { commitChange } from '../rollout/commit.js';
import { historyEvent, notifyEvents } from '../rollout/events.js';
import { openRollout, withLock, type Rollout, type StateOptions } from '../rollout/open.js';
import { notStarted, recordAttempt, rollbackDestination, rolledBack } from '../state/transitions.js';
import type { Lock, RolloutState } from '../state/types.js';
import { detectDrift } from '../targets/drift.js';
import type { CommandContext, CommandResult } from './context.js';
import { watchRecovery } from './recovery.js';

export interface RollbackOptions extends StateOptions {
  emergency?: boolean;
  to?: string;
  yes?: boolean;
  reason?: string;
  verify?: boolean;
}

/** Rolls the rollout back. */
export async function rollbackCommand(options: RollbackOptions, ctx: CommandContext): Promise<CommandResult> {
  const rollout = await openRollout(options, ctx);
  try {
    if (options.emergency) return await emergencyRollback(rollout, options, ctx);
    return await withLock(rollout, 'rollback', ctx, () => plannedRollback(rollout, options, ctx));
  } finally {
    await rollout.close();
  }
}

async function plannedRollback(rollout: Rollout, options: RollbackOptions, ctx: CommandContext): Promise<CommandResult> {
  const { plan } = rollout;
  const state = (await rollout.store.load()) ?? notStarted(plan);
  const destination = rollbackDestination(plan, state, parseTo(options.to, plan.rollback.to));
  // Rolling back is always allowed on drift: the target's real percentage is where we come from.
  const drift = await detectDrift(rollout.target, state.percent, ctx.signal);
  const from = drift.targetPercent ?? state.percent;
  if (drift.drift) ctx.out.error(`warning: drift: ${drift.message}; rolling back from the target's ${from}%`);
  if (!options.yes && !(await ctx.prompter.confirm(`Roll ${plan.name} back: ${from}% → ${destination.percent}%?`, '--yes'))) {
    throw new UsageError('not confirmed; nothing changed', 'answer yes, or pass --yes');
  }
  const reason = options.reason ?? 'rolled back by hand';
  const event = historyEvent(plan, ctx, { action: 'rollback', from, to: destination.percent, reason });
  const next = rolledBack(plan, state, destination, ctx.clock.now());
  await commitChange(rollout, { from, to: destination.percent, next, events: [event], alwaysApply: drift.drift, towardsSafety: true });
  const deliveries = await notifyEvents(plan, [event], ctx);
  let recovered: boolean | undefined;
  if (options.verify) {
    ctx.out.error(`verifying recovery: ${plan.analysis.failureLimit} polls, ${plan.analysis.intervalMs / 1000}s apart…`);
    recovered = (await watchRecovery(plan, rollout.store, next, rollout.meter, ctx)).recovered;
  }
  if (options.json) ctx.out.printJson({ action: 'rollback', from, to: destination.percent, reason, recovered, notifications: deliveries });
  else {
    ctx.out.print(`${ctx.out.color.yellow('rolled back')} ${plan.name}: ${from}% → ${destination.percent}%`);
    if (recovered !== undefined) ctx.out.print(recovered ? 'metrics recovered' : ctx.out.color.red('metrics NOT recovered: investigate now'));
  }
  return { exitCode: ExitCode.ok };
}

/**
 * The break-glass path. Order matters: the target first (what stops the harm), then the emergency
 * actions, then state and notifications; a failure of one never skips the next.
 */
async function emergencyRollback(rollout: Rollout, options: RollbackOptions, ctx: CommandContext): Promise<CommandResult> {
  const { plan } = rollout;
  const problems: string[] = [];
  let lock: Lock | undefined;
  try {
    lock = await rollout.store.lock(lockHolder('rollback --emergency', ctx.env, ctx.clock), { takeOver: true });
  } catch (err) {
    problems.push(`lock: ${messageOf(err)}`);
  }
  try {
    let state: RolloutState | undefined;
    try {
      state = await rollout.store.load();
    } catch (err) {
      if (!(err instanceof StateCorruptError) && !(err instanceof RolloutError)) throw err;
      problems.push(`state: ${messageOf(err)} (overwritten)`);
    }
    const from = state?.percent ?? 0;
    let targetFailure: unknown;
    try {
      await rollout.target.apply(0);
    } catch (err) {
      targetFailure = err;
      problems.push(`target: ${messageOf(err)}`);
    }
    try {
      await rollout.target.emergency();
    } catch (err) {
      targetFailure ??= err;
      problems.push(`emergency actions: ${messageOf(err)}`);
    }
    const tookOver = lock?.tookOverFrom ? `; took the lock from ${lock.tookOverFrom.actor} (pid ${lock.tookOverFrom.pid} on ${lock.tookOverFrom.host}, ${lock.tookOverFrom.command})` : '';
    const reason = `${options.reason ?? 'emergency rollback'}${tookOver}${targetFailure ? `; target FAILED: ${messageOf(targetFailure)}` : ''}`;
    const event = historyEvent(plan, ctx, { action: 'emergency-rollback', from, to: 0, reason, verdict: 'skipped' });
    const base = state ?? notStarted(plan);
    try {
      // Recorded even when the target failed, so history shows the attempt; state says 0 only on success.
      const next = targetFailure ? recordAttempt(base) : rolledBack(plan, base, { stageIndex: -1, percent: 0 }, ctx.clock.now());
      await rollout.store.save(next, [event], { force: true });
    } catch (err) {
      problems.push(`recording: ${messageOf(err)}`);
    }
    const deliveries = await notifyEvents(plan, [event], ctx);
    for (const p of problems) ctx.out.error(`warning: ${p}`);
    if (options.json) ctx.out.printJson({ action: 'emergency-rollback', from, to: 0, ok: !targetFailure, problems, notifications: deliveries });
    if (targetFailure) {
      throw new TargetError(`emergency rollback of ${plan.name} could not set the target to 0%: ${messageOf(targetFailure)}`, 'set it by hand now; then run `rollout rollback --emergency` again to record it');
    }
    if (!options.json) ctx.out.print(`${ctx.out.color.red.bold('EMERGENCY ROLLBACK')} ${plan.name}: ${from}% → 0%${tookOver}`);
    return { exitCode: ExitCode.ok };
  } finally {
    await lock?.release().catch(() => undefined);
  }
}

function parseTo(text: string | undefined, planned: number | 'previous'): number | 'previous' {
  if (text === undefined) return planned;
  if (text === 'previous') return 'previous';
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new UsageError(`--to ${text} is not a percentage`, 'use --to 0, --to previous, or a stage percentage such as --to 10');
  return n;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
