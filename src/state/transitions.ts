/**
 * Every state change, as a pure function: what state becomes when a stage is entered, the rollout
 * completes, is paused, resumed, adopts a drifted target or rolls back. Each goes through `bump`,
 * the one place a new version is made, so every write is a compare-and-set on the stored version.
 */
import type { DecisionCounters } from '../analysis/decide.js';
import type { Plan } from '../plan/types.js';
import type { RolloutState } from './types.js';

/** The state of a rollout that has not started. */
export function notStarted(plan: Plan): RolloutState {
  return { plan: plan.name, stageIndex: -1, percent: 0, enteredAt: 0, consecutiveCritical: 0, completed: false, rolledBack: false, version: 0 };
}

/** The next version of `state` with `fields` changed. */
function bump(state: RolloutState, fields: Partial<RolloutState>): RolloutState {
  return { ...state, ...fields, version: state.version + 1 };
}

/** A fresh stage position: no pause, no counters, no hold or bake restart, nothing counted; the plan's stages noted. */
function positioned(plan: Plan, state: RolloutState, fields: Pick<RolloutState, 'stageIndex' | 'percent' | 'enteredAt' | 'rolledBack'>): RolloutState {
  const { paused: _paused, holdingSince: _holding, bakeRestart: _restart, emergency: _fence, evidence: _counted, ...rest } = state;
  return bump(rest, { ...fields, plan: plan.name, consecutiveCritical: 0, completed: false, stages: stagesOf(plan) });
}

/** The plan's stage percentages, as state records them. */
export function stagesOf(plan: Plan): number[] {
  return plan.stages.map((s) => s.percent);
}

/** Enters stage `index` at `now`: the bake and the counters start afresh. */
export function enterStage(plan: Plan, state: RolloutState, index: number, now: number): RolloutState {
  const stage = plan.stages[index];
  if (!stage) throw new Error(`no stage ${index}`);
  return positioned(plan, state, { stageIndex: index, percent: stage.percent, enteredAt: now, rolledBack: false });
}

/** The rollout is complete: the last stage has baked healthy. */
export function completeRollout(state: RolloutState): RolloutState {
  return bump(state, { completed: true, consecutiveCritical: 0, holdingSince: undefined });
}

/** Paused by hand: `run` and `advance` hold until resumed. */
export function pauseRollout(state: RolloutState, paused: NonNullable<RolloutState['paused']>): RolloutState {
  return bump(state, { paused });
}

/** A hand-made pause lifted; a hold that was under way starts afresh. */
export function resumeRollout(state: RolloutState): RolloutState {
  const { paused: _lifted, ...rest } = state;
  return bump(rest, { holdingSince: undefined });
}

/** decide()'s counters kept in state, so a restarted run resumes them. */
export function keepCounters(state: RolloutState, counters: DecisionCounters): RolloutState {
  // Spelled out: decide() leaves holdingSince out when a hold ends, and a spread would keep the old one.
  return bump(state, { consecutiveCritical: counters.consecutiveCritical, holdingSince: counters.holdingSince, bakeRestart: counters.bakeRestart });
}

/**
 * The target's percentage taken as the truth (`--adopt`) at `now`. Between two stages, the
 * rollout goes on as if at the highest stage below the adopted percentage.
 */
export function adoptTarget(plan: Plan, state: RolloutState, targetPercent: number, now: number): RolloutState {
  const index = plan.stages.findIndex((s) => s.percent === targetPercent);
  const below = plan.stages.reduce((best, s, i) => (s.percent < targetPercent ? i : best), -1);
  const { bakeRestart: _restart, holdingSince: _holding, ...rest } = state;
  return bump(rest, { percent: targetPercent, stageIndex: index >= 0 ? index : below, enteredAt: now, completed: false, consecutiveCritical: 0, stages: stagesOf(plan) });
}

/**
 * Where a rollback from `fromPercent` (what the target says) goes: `to` is 0, a stage's
 * percentage, or `previous` (the highest stage below `fromPercent`). A rollback only ever lowers
 * exposure: a destination that is not a stage below `fromPercent` becomes 0.
 * Returns the stage index (-1 for 0 %) and the percentage.
 */
export function rollbackDestination(plan: Plan, to: number | 'previous', fromPercent: number): { stageIndex: number; percent: number } {
  const index = to === 'previous' ? plan.stages.findLastIndex((s) => s.percent < fromPercent) : plan.stages.findIndex((s) => s.percent === to);
  const stage = plan.stages[index];
  return stage && stage.percent < fromPercent ? { stageIndex: index, percent: stage.percent } : { stageIndex: -1, percent: 0 };
}

/** State after rolling back to `destination` at `now`. */
export function rolledBack(plan: Plan, state: RolloutState, destination: { stageIndex: number; percent: number }, now: number): RolloutState {
  return positioned(plan, state, { stageIndex: destination.stageIndex, percent: destination.percent, enteredAt: now, rolledBack: true });
}

/** State unchanged but for its version: records an attempt (an emergency whose target failed) in history. */
export function recordAttempt(state: RolloutState): RolloutState {
  return bump(state, {});
}
