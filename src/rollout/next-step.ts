/**
 * What an on-call engineer should do next, and how `status --exit-code` exits: pure functions of
 * the status's data. Every `next` names a command that will work as things stand (the plan path
 * and state dir included when they are not the defaults), never one that will be refused.
 */
import type { Decision } from '../analysis/decide.js';
import type { Judgement } from '../analysis/judge.js';
import { ExitCode } from '../errors.js';
import { formatDuration } from '../plan/duration.js';
import type { Plan } from '../plan/types.js';
import type { HistoryEvent, RolloutState } from '../state/types.js';
import { verdictExitCode } from './meter.js';

/** The last rollback of a rollout, from history: why, when, who, and whether the metrics recovered. */
export interface LastRollback {
  action: 'rollback' | 'emergency-rollback';
  /** ISO-8601 time. */
  at: string;
  by: string;
  reason: string;
  from: number;
  to: number;
  /** The recovery check after it (run, rollback --verify); undefined when none was made. */
  recovered?: boolean;
  recovery?: string;
}

/** Finds the last rollback in `events` and the recovery check that followed it. */
export function lastRollback(events: HistoryEvent[]): LastRollback | undefined {
  const index = events.findLastIndex((e) => e.action === 'rollback' || e.action === 'emergency-rollback');
  const event = events[index];
  if (!event) return undefined;
  const check = events.slice(index + 1).find((e) => e.action === 'recovered' || e.action === 'not-recovered');
  return {
    action: event.action as LastRollback['action'],
    at: event.time,
    by: event.actor,
    reason: event.reason,
    from: event.from,
    to: event.to,
    ...(check ? { recovered: check.action === 'recovered', recovery: check.reason } : {}),
  };
}

/** How commands are spelled for this rollout: the plan path and state dir as the user gave them. */
export interface CommandSpelling {
  plan: string;
  stateDir?: string;
}

const DEFAULT_PLAN = './rollout.yaml';

/** `rollout <verb> [plan] [--state-dir d] [flags]`, quoted where a shell would need it. */
export function rolloutCommand(verb: string, spelling: CommandSpelling, flags = ''): string {
  const quote = (s: string) => (/^[\w./@:=+-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);
  const parts = ['rollout', verb];
  if (spelling.plan !== DEFAULT_PLAN && spelling.plan !== 'rollout.yaml') parts.push(quote(spelling.plan));
  if (flags) parts.push(flags);
  if (spelling.stateDir) parts.push('--state-dir', quote(spelling.stateDir));
  return `\`${parts.join(' ')}\``;
}

/** What the next step is decided from. */
export interface NextStepInput {
  plan: Plan;
  state: RolloutState | undefined;
  decision: Decision;
  spelling: CommandSpelling;
  /** The target's percentage, when it could be read, whether it drifted from state, and why a read failed. */
  target: { percent?: number; drift: boolean; error?: string };
  /** An unfinished emergency, in words. */
  fenced?: string;
  /** Why the plan no longer fits state, in words. */
  planChange?: string;
  rollback?: LastRollback;
}

/** The next action, in words, with a command that will work now. */
export function nextStep(input: NextStepInput): string {
  const { plan, state, decision, spelling, target } = input;
  const run = (verb: string, flags = '') => rolloutCommand(verb, spelling, flags);
  if (input.fenced) return `finish the emergency: ${run('rollback', '--emergency')}`;
  // Every command that moves the target reads it first, so none would work now but the emergency.
  if (target.error) return `the target does not answer: fix it, then ${run('status')} again; if the canary is failing, ${run('rollback', '--emergency')}`;
  if (input.planChange) return `the plan changed: ${run('advance', '--adopt')} carries on under the new stages, or ${run('rollback')}`;
  if (target.drift && target.percent !== undefined) {
    const where = describeAdoption(plan, target.percent);
    const notStarted = !state || (state.stageIndex < 0 && !state.rolledBack);
    return notStarted
      ? `adopt the rollout already at ${target.percent}%: ${run('advance', '--adopt')} takes it as ${where}, or ${run('rollback', '--to 0')} sets 0%`
      : `drift: ${run('advance', '--adopt')} takes the target's ${target.percent}% as ${where}, or ${run('rollback')} lowers it`;
  }
  const first = plan.stages[0]?.percent;
  if (state?.rolledBack && decision.action === 'start') {
    const rb = input.rollback;
    if (rb?.recovered === false) return `metrics did NOT recover after the rollback: investigate now (${run('history')}); ${run('rollback', '--emergency')} runs the emergency actions`;
    return `investigate why it was rolled back (${run('history')}); once fixed, ${run('advance')} starts again at ${first}%`;
  }
  const nextStage = state ? plan.stages[state.stageIndex + 1] : plan.stages[0];
  switch (decision.action) {
    case 'start':
      return `start: ${run('advance')} applies ${first}%`;
    case 'advance':
      return `advance possible now: ${run('advance')} → ${nextStage?.percent}%`;
    case 'complete':
      return `complete: ${run('advance')} marks the rollout complete`;
    case 'done':
      return 'done: the rollout is complete at 100%';
    case 'critical':
      return `roll back: ${run('rollback')} (${decision.reason})`;
    case 'hold':
      if (state?.paused) return `paused by ${state.paused.by}: ${state.paused.reason}; ${run('resume')} lifts it`;
      return decision.retryInMs !== undefined
        ? `advance possible in ${formatDuration(decision.retryInMs)}: then ${run('advance')}`
        : `hold: ${decision.reason}; follow it with ${run('status', '--watch')}`;
    default:
      return decision.reason;
  }
}

/** "stage 2 (25%)", or where a percentage between stages goes on from. */
function describeAdoption(plan: Plan, percent: number): string {
  const index = plan.stages.findIndex((s) => s.percent === percent);
  if (index >= 0) return `stage ${index + 1}/${plan.stages.length}`;
  const below = plan.stages.findLastIndex((s) => s.percent < percent);
  return below >= 0 ? `a position after stage ${below + 1} (${plan.stages[below]?.percent}%)` : 'a position before the first stage';
}

/**
 * `status --exit-code`: as `check` (0 healthy, 3 hold, 4 critical) from the same judgement, in
 * every state; 5 where a command acting now would be refused (drift, a changed plan, an
 * unfinished emergency).
 */
export function statusExitCode(input: { judgement?: Judgement; drift: boolean; fenced?: string; planChange?: string }): ExitCode {
  if (input.drift || input.fenced || input.planChange) return ExitCode.conflict;
  return input.judgement ? verdictExitCode(input.judgement) : ExitCode.ok;
}
