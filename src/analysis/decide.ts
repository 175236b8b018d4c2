/**
 * The decision: a pure function of (plan, state, judgement, now) that says what to do next —
 * start, advance, complete, hold, roll back, wait for approval — and why. `advance` (a human at
 * the keyboard) and `run` (unattended) share it; only `run` counts criticals towards an automatic
 * rollback and enforces maxHold.
 */
import { formatDuration } from '../plan/duration.js';
import type { Plan } from '../plan/types.js';
import type { RolloutState } from '../state/types.js';
import type { Judgement } from './judge.js';

export type Decision =
  /** Not started (or rolled back): apply the first stage; no canary traffic to judge yet. */
  | { action: 'start'; toStage: number; reason: string }
  | { action: 'advance'; toStage: number; reason: string }
  /** The last stage has baked healthy: the rollout is complete. */
  | { action: 'complete'; reason: string }
  /** Already complete: nothing to do. */
  | { action: 'done'; reason: string }
  /** Stay; `retryInMs` says when advancing could be possible, when that is known. */
  | { action: 'hold'; reason: string; retryInMs?: number }
  /** A critical verdict a human must act on (manual mode), or one not yet at failureLimit. */
  | { action: 'critical'; reason: string }
  | { action: 'rollback'; reason: string }
  /** The next stage needs a human `rollout advance` (unattended mode). */
  | { action: 'wait-approval'; toStage: number; reason: string }
  /** maxHold exceeded with onMaxHold: fail. */
  | { action: 'fail'; reason: string };

export interface DecideInput {
  plan: Plan;
  state: RolloutState | undefined;
  judgement: Judgement | undefined;
  now: number;
  /** `manual` for `rollout advance`, `auto` for `rollout run`. */
  mode: 'manual' | 'auto';
}

/** The counters the decision carries forward in state. */
export interface DecisionCounters {
  consecutiveCritical: number;
  holdingSince?: number;
  /** The last unhealthy reading of the stage; the bake counts from it. */
  bakeRestart?: RolloutState['bakeRestart'];
}

/** True while the current stage is within `analysis.warmup` of being entered. */
export function inWarmup(plan: Plan, state: RolloutState | undefined, now: number): boolean {
  return state !== undefined && state.stageIndex >= 0 && now - state.enteredAt < plan.analysis.warmupMs;
}

/**
 * Time left in the current stage's bake (0 when done or not started). The bake is healthy time:
 * it counts from the stage's entry, or from its last unhealthy reading when that came later.
 */
export function bakeLeftMs(plan: Plan, state: RolloutState | undefined, now: number): number {
  if (!state || state.stageIndex < 0) return 0;
  const stage = plan.stages[state.stageIndex];
  if (!stage) return 0;
  const from = Math.max(state.enteredAt, state.bakeRestart?.at ?? 0);
  return Math.max(0, from + stage.bakeMs - now);
}

/** Decides the next step, and the counters to record with it. */
export function decide(input: DecideInput): { decision: Decision; counters: DecisionCounters } {
  const { plan, state, judgement, now, mode } = input;
  // A healthy reading resets the counters but never the bake restart: that needs a new stage.
  const reset: DecisionCounters = { consecutiveCritical: 0, bakeRestart: state?.bakeRestart };
  const kept: DecisionCounters = { consecutiveCritical: state?.consecutiveCritical ?? 0, holdingSince: state?.holdingSince, bakeRestart: state?.bakeRestart };
  if (!state || state.stageIndex < 0) {
    const first = plan.stages[0];
    return { decision: { action: 'start', toStage: 0, reason: `start at ${first?.percent}%` }, counters: reset };
  }
  if (state.completed) return { decision: { action: 'done', reason: 'the rollout is complete at 100%' }, counters: reset };
  if (state.paused) {
    return {
      decision: { action: 'hold', reason: `paused by ${state.paused.by}: ${state.paused.reason} (resume with \`rollout resume\`)` },
      counters: kept,
    };
  }
  if (!judgement) return { decision: { action: 'hold', reason: 'no judgement' }, counters: kept };
  // Warm-up readings are shown, never acted on: they neither count nor restart the bake.
  if (judgement.warmingUp) return { decision: { action: 'hold', reason: judgement.reasons.join('; ') }, counters: kept };

  if (judgement.verdict === 'critical') {
    const count = state.consecutiveCritical + 1;
    const why = judgement.reasons.join('; ');
    const counters = { consecutiveCritical: count, holdingSince: state.holdingSince ?? now, bakeRestart: { at: now, reason: why } };
    if (mode === 'auto' && count >= plan.analysis.failureLimit) {
      return { decision: { action: 'rollback', reason: `${why} (critical ${count}/${plan.analysis.failureLimit})` }, counters };
    }
    return { decision: { action: 'critical', reason: `${why} (critical ${count}/${plan.analysis.failureLimit})` }, counters };
  }

  if (judgement.verdict === 'hold') {
    const holdingSince = state.holdingSince ?? now;
    const why = judgement.reasons.join('; ');
    const counters = { consecutiveCritical: 0, holdingSince, bakeRestart: { at: now, reason: why } };
    if (mode === 'auto' && now - holdingSince >= plan.analysis.maxHoldMs) {
      const reason = `held for ${formatDuration(now - holdingSince)}, over maxHold ${formatDuration(plan.analysis.maxHoldMs)}: ${why}`;
      return { decision: plan.analysis.onMaxHold === 'rollback' ? { action: 'rollback', reason } : { action: 'fail', reason }, counters };
    }
    return { decision: { action: 'hold', reason: why }, counters };
  }

  // Healthy: advance once the bake is done.
  const left = bakeLeftMs(plan, state, now);
  if (left > 0) {
    return { decision: { action: 'hold', reason: `baking: advance possible in ${formatDuration(left)}`, retryInMs: left }, counters: reset };
  }
  const nextIndex = state.stageIndex + 1;
  const next = plan.stages[nextIndex];
  if (!next) return { decision: { action: 'complete', reason: `100% baked healthy for ${formatDuration(plan.stages[state.stageIndex]?.bakeMs ?? 0)}` }, counters: reset };
  if (next.approval && mode === 'auto') {
    return { decision: { action: 'wait-approval', toStage: nextIndex, reason: `waiting for approval: ${next.percent}% needs a human \`rollout advance\`` }, counters: reset };
  }
  return { decision: { action: 'advance', toStage: nextIndex, reason: `healthy and baked: advance to ${next.percent}%` }, counters: reset };
}
