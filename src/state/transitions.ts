/** Pure state transitions: what state becomes when a stage is entered, a rollout completes or rolls back. */
import type { Plan } from '../plan/types.js';
import type { RolloutState } from './types.js';

/** The state of a rollout that has not started. */
export function notStarted(plan: Plan): RolloutState {
  return { plan: plan.name, stageIndex: -1, percent: 0, enteredAt: 0, consecutiveCritical: 0, completed: false, rolledBack: false, version: 0 };
}

/** Enters stage `index` at `now`: the bake and the counters start afresh. */
export function enterStage(plan: Plan, state: RolloutState, index: number, now: number): RolloutState {
  const stage = plan.stages[index];
  if (!stage) throw new Error(`no stage ${index}`);
  return {
    plan: plan.name,
    stageIndex: index,
    percent: stage.percent,
    enteredAt: now,
    consecutiveCritical: 0,
    completed: false,
    rolledBack: false,
    version: state.version + 1,
  };
}

/** The rollout is complete: the last stage has baked healthy. */
export function completeRollout(state: RolloutState): RolloutState {
  return { ...state, completed: true, consecutiveCritical: 0, holdingSince: undefined, version: state.version + 1 };
}

/**
 * Where a rollback goes: `to` is a percentage (0, a stage's) or `previous` (the stage before the
 * current one, or 0 from the first). Returns the stage index (-1 for 0 %) and the percentage.
 */
export function rollbackDestination(plan: Plan, state: RolloutState | undefined, to: number | 'previous'): { stageIndex: number; percent: number } {
  if (to === 'previous') {
    const index = (state?.stageIndex ?? 0) - 1;
    const stage = plan.stages[index];
    return stage ? { stageIndex: index, percent: stage.percent } : { stageIndex: -1, percent: 0 };
  }
  const index = plan.stages.findIndex((s) => s.percent === to);
  return { stageIndex: to === 0 ? -1 : index, percent: to };
}

/** State after rolling back to `destination` at `now`. */
export function rolledBack(plan: Plan, state: RolloutState, destination: { stageIndex: number; percent: number }, now: number): RolloutState {
  return {
    plan: plan.name,
    stageIndex: destination.stageIndex,
    percent: destination.percent,
    enteredAt: now,
    consecutiveCritical: 0,
    completed: false,
    rolledBack: true,
    version: state.version + 1,
  };
}
