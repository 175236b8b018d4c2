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

/** `rollout <verb> [plan] [--state-dir d] [flags]`: a shell command, quoted where a shell would need it. */
export function rolloutCommand(verb: string, spelling: CommandSpelling, flags = ''): string {
  const quote = (s: string) => (/^[\w./@:=+-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);
  const parts = ['rollout', verb];
  if (spelling.plan !== DEFAULT_PLAN && spelling.plan !== 'rollout.yaml') parts.push(quote(spelling.plan));
  if (flags) parts.push(flags);
  if (spelling.stateDir) parts.push('--state-dir', quote(spelling.stateDir));
  return parts.join(' ');
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

/** What to do next, as a machine reads it: a verb and the exact shell command (null: nothing to run). */
export interface NextAction {
  action: 'emergency-rollback' | 'fix-target' | 'adopt' | 'rollback' | 'investigate' | 'start' | 'advance' | 'complete' | 'none' | 'resume' | 'wait' | 'watch';
  command: string | null;
}

/** The next step: the action, other actions that also fit, and the sentence people read. */
export interface NextStep extends NextAction {
  alternatives: NextAction[];
  text: string;
}

/** The next action, with a command that will work now, and its sentence. */
export function nextStep(input: NextStepInput): NextStep {
  const { plan, state, decision, spelling, target } = input;
  const cmd = (verb: string, flags = '') => rolloutCommand(verb, spelling, flags);
  // People read commands in backquotes; the JSON's `command` is the bare shell command.
  const shown = (command: string) => `\`${command}\``;
  const step = (action: NextAction['action'], command: string | null, text: (shown: string) => string, ...alternatives: NextAction[]): NextStep => ({
    action,
    command,
    alternatives,
    text: text(command === null ? '' : shown(command)),
  });
  const also = (action: NextAction['action'], command: string): NextAction => ({ action, command });
  if (input.fenced) return step('emergency-rollback', cmd('rollback', '--emergency'), (c) => `finish the emergency: ${c}`);
  // Every command that moves the target reads it first, so none would work now but the emergency.
  if (target.error) {
    const emergency = cmd('rollback', '--emergency');
    return step('fix-target', cmd('status'), (c) => `the target does not answer: fix it, then ${c} again; if the canary is failing, ${shown(emergency)}`, also('emergency-rollback', emergency));
  }
  if (input.planChange) {
    const back = cmd('rollback');
    return step('adopt', cmd('advance', '--adopt'), (c) => `the plan changed: ${c} carries on under the new stages, or ${shown(back)}`, also('rollback', back));
  }
  if (target.drift && target.percent !== undefined) {
    const where = describeAdoption(plan, target.percent);
    const notStarted = !state || (state.stageIndex < 0 && !state.rolledBack);
    const back = cmd('rollback', notStarted ? '--to 0' : '');
    return notStarted
      ? step('adopt', cmd('advance', '--adopt'), (c) => `adopt the rollout already at ${target.percent}%: ${c} takes it as ${where}, or ${shown(back)} sets 0%`, also('rollback', back))
      : step('adopt', cmd('advance', '--adopt'), (c) => `drift: ${c} takes the target's ${target.percent}% as ${where}, or ${shown(back)} lowers it`, also('rollback', back));
  }
  const first = plan.stages[0]?.percent;
  if (state?.rolledBack && decision.action === 'start') {
    const rb = input.rollback;
    if (rb?.recovered === false) {
      const emergency = cmd('rollback', '--emergency');
      return step('investigate', cmd('history'), (c) => `metrics did NOT recover after the rollback: investigate now (${c}); ${shown(emergency)} runs the emergency actions`, also('emergency-rollback', emergency));
    }
    const again = cmd('advance');
    return step('investigate', cmd('history'), (c) => `investigate why it was rolled back (${c}); once fixed, ${shown(again)} starts again at ${first}%`, also('start', again));
  }
  const nextStage = state ? plan.stages[state.stageIndex + 1] : plan.stages[0];
  switch (decision.action) {
    case 'start':
      return step('start', cmd('advance'), (c) => `start: ${c} applies ${first}%`);
    case 'advance':
      return step('advance', cmd('advance'), (c) => `advance possible now: ${c} → ${nextStage?.percent}%`);
    case 'complete':
      return step('complete', cmd('advance'), (c) => `complete: ${c} marks the rollout complete`);
    case 'done':
      return step('none', null, () => 'done: the rollout is complete at 100%');
    case 'critical':
      return step('rollback', cmd('rollback'), (c) => `roll back: ${c} (${decision.reason})`);
    case 'hold': {
      if (state?.paused) {
        const { by, reason } = state.paused;
        return step('resume', cmd('resume'), (c) => `paused by ${by}: ${reason}; ${c} lifts it`);
      }
      const retryInMs = decision.retryInMs;
      return retryInMs !== undefined
        ? step('wait', cmd('advance'), (c) => `advance possible in ${formatDuration(retryInMs)}: then ${c}`)
        : step('watch', cmd('status', '--watch'), (c) => `hold: ${decision.reason}; follow it with ${c}`);
    }
    default:
      return step('none', null, () => decision.reason);
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
