/**
 * What must hold between a plan and a rollout's state before anything acts on them: the stages
 * are the ones the rollout started with, the stage index exists, and no emergency rollback is
 * unfinished. Pure: each returns why not, in words, or undefined.
 */
import { formatDuration } from '../plan/duration.js';
import type { Plan } from '../plan/types.js';
import { stagesOf } from '../state/transitions.js';
import type { RolloutState } from '../state/types.js';

/** Why `state` cannot be carried on under `plan` as it stands (stages edited, index out of range). */
export function planMismatch(plan: Plan, state: RolloutState | undefined): string | undefined {
  if (!state) return undefined;
  const stages = stagesOf(plan);
  const started = state.stageIndex >= 0 || state.completed;
  if (started && state.stages && (state.stages.length !== stages.length || state.stages.some((p, i) => p !== stages[i]))) {
    return `the plan's stages changed from [${state.stages.join(', ')}] to [${stages.join(', ')}] while the rollout was at ${state.percent}%`;
  }
  if (!Number.isInteger(state.stageIndex) || state.stageIndex < -1 || state.stageIndex >= stages.length) {
    return `state is at stage ${state.stageIndex + 1} (${state.percent}%), but the plan has ${stages.length} stage${stages.length === 1 ? '' : 's'} [${stages.join(', ')}]`;
  }
  // Not started (or rolled back to 0): the stages ahead may change freely.
  if (!started || state.stages) return undefined;
  // State written before stages were recorded: the percentage must sit at its stage, or between it
  // and the next (a percentage adopted from a drifted target).
  const at = stages[state.stageIndex] ?? 0;
  const next = stages[state.stageIndex + 1] ?? 101;
  if (state.percent < at || state.percent >= next) {
    return `state says stage ${state.stageIndex + 1} at ${state.percent}%, but stage ${state.stageIndex + 1} of the plan is ${at}% [${stages.join(', ')}]`;
  }
  return undefined;
}

/** Why nothing but another emergency may act: an emergency rollback fenced the rollout and did not finish. */
export function unfinishedEmergency(state: RolloutState | undefined, now: number): string | undefined {
  if (!state?.emergency) return undefined;
  const { by, at, command } = state.emergency;
  return `an emergency rollback (${command} by ${by}, ${formatDuration(Math.max(0, now - at))} ago) took this rollout over and did not record 0%`;
}
