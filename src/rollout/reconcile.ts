/**
 * Before a command moves a rollout: the state must fit the plan (no unfinished emergency, the
 * same stages) and the target must say what state says. The target is the truth: drift is
 * refused (exit 5, recorded) unless --adopt takes the target's percentage into state.
 */
import type { CommandContext } from '../context.js';
import { ConflictError } from '../errors.js';
import { adoptTarget, notStarted } from '../state/transitions.js';
import type { HistoryEvent, RolloutState } from '../state/types.js';
import { detectDrift } from '../targets/drift.js';
import { historyEvent, notifyEvents } from './events.js';
import { planMismatch, unfinishedEmergency } from './guards.js';
import type { Rollout } from './open.js';

/** Refuses state an ordinary command must not act on: an unfinished emergency (exit 5). */
export function refuseFenced(state: RolloutState | undefined, ctx: Pick<CommandContext, 'clock'>): void {
  const fenced = unfinishedEmergency(state, ctx.clock.now());
  if (fenced) throw new ConflictError(fenced, 'finish it: run `rollout rollback --emergency` again, then check the target');
}

/**
 * The state to act on: checked against the plan and the target. On a plan whose stages changed,
 * or on drift, refuses (exit 5) unless `adopt`, which takes the target's percentage (or, without
 * a readable target, state's) into state under the plan as it is now.
 */
export async function reconcile(rollout: Rollout, stored: RolloutState | undefined, options: { adopt?: boolean }, ctx: CommandContext): Promise<RolloutState> {
  const { plan } = rollout;
  refuseFenced(stored, ctx);
  const state = stored ?? notStarted(plan);
  const mismatch = planMismatch(plan, stored);
  const drift = await detectDrift(rollout.target, stored ? stored.percent : undefined, ctx.signal);
  const targetPercent = drift.targetPercent ?? state.percent;
  const event = (reason: string): HistoryEvent => historyEvent(plan, ctx, { action: 'drift', from: state.percent, to: targetPercent, reason });
  if (mismatch && !options.adopt) {
    throw new ConflictError(mismatch, `roll back with \`rollout rollback\`, restore the plan's stages, or rerun with --adopt to carry on from ${targetPercent}% under the new stages`);
  }
  if (!drift.drift && !mismatch) return state;
  const why = [mismatch, drift.drift ? drift.message : undefined].filter(Boolean).join('; ');
  if (!options.adopt) {
    const refused = event(`refused: ${why}`);
    await rollout.store.append([refused]);
    await notifyEvents(plan, [refused], ctx);
    throw new ConflictError(`drift: ${why}`, `rerun with --adopt to take the target's ${targetPercent}% as the truth, or set the target back to ${state.percent}%`);
  }
  const adopted = adoptTarget(plan, state, targetPercent, ctx.clock.now());
  const adoption = event(`adopted: ${why}`);
  await rollout.store.save(adopted, [adoption]);
  await notifyEvents(plan, [adoption], ctx);
  const between = !plan.stages.some((s) => s.percent === targetPercent);
  ctx.out.error(`drift adopted: ${why}; state now says ${targetPercent}%${between ? ' (not a stage of the plan: the next advance goes to the first stage above it)' : ''}`);
  return adopted;
}
