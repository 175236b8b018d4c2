/**
 * Requests to a running `run` (issue 17). While `run` holds a rollout's lock, `hold`, `resume`,
 * `advance` and `rollback` from another process post a request in the store instead of failing
 * on the lock; the run takes it at its next check (every second or so while it sleeps) and acts
 * on it itself, through its own commit path, recording the requester as the actor. The run's
 * `guard` stops a run whose state someone else wrote, so requests are never applied by the
 * requesting process. Pure: what the run does with each request.
 */
import { randomBytes } from 'node:crypto';
import type { EventFields } from '../analysis/run-loop.js';
import { ExitCode } from '../errors.js';
import type { Plan } from '../plan/types.js';
import { pauseRollout, resumeRollout, rollbackDestination, rolledBack } from '../state/transitions.js';
import type { RolloutState, RunRequest } from '../state/types.js';

/** A new request of `kind` by `by` at `now`; its id sorts by time. */
export function newRequest(kind: RunRequest['kind'], by: string, now: number, fields: Pick<RunRequest, 'reason' | 'to'> = {}): RunRequest {
  const id = `${Math.max(0, Math.floor(now)).toString(36).padStart(9, '0').slice(-9)}-${randomBytes(4).toString('hex')}`;
  return { id, kind, by, at: now, ...fields };
}

/** What the run does with a request. */
export type RequestAction =
  /** A state change to commit as the requester; `ends` stops the run once committed. */
  | { type: 'change'; next: RolloutState; event: EventFields; towardsSafety?: boolean; ends?: 'rolled-back'; message: string }
  /** An approval, kept until the run reaches the gate of stage `toStage`. */
  | { type: 'approve'; toStage: number; message: string }
  | { type: 'refuse'; message: string; exitCode: ExitCode };

/** Decides what the run does with `request`, from where the rollout stands. */
export function decideRequest(plan: Plan, state: RolloutState, request: RunRequest, now: number): RequestAction {
  const at = state.percent;
  const by = request.by;
  switch (request.kind) {
    case 'hold': {
      if (state.paused) return { type: 'refuse', message: `already paused by ${state.paused.by}: ${state.paused.reason}`, exitCode: ExitCode.ok };
      const reason = request.reason ?? 'held by hand';
      return {
        type: 'change',
        next: pauseRollout(state, { reason, by, at: now }),
        event: { action: 'hold', from: at, to: at, reason: `${reason} (the run paused on request)`, actor: by },
        message: `the run paused ${plan.name} at ${at}%; it waits for \`rollout resume\``,
      };
    }
    case 'resume':
      if (!state.paused) return { type: 'refuse', message: `${plan.name} is not paused; nothing to resume`, exitCode: ExitCode.ok };
      return {
        type: 'change',
        next: resumeRollout(state),
        event: { action: 'resume', from: at, to: at, reason: `lifts the hold by ${state.paused.by}: ${state.paused.reason} (the run resumed on request)`, actor: by },
        message: `the run resumed ${plan.name} at ${at}%`,
      };
    case 'rollback': {
      const destination = rollbackDestination(plan, request.to ?? plan.rollback.to, at);
      if (destination.percent >= at) return { type: 'refuse', message: `${plan.name} is at ${at}%: nothing to roll back`, exitCode: ExitCode.ok };
      return {
        type: 'change',
        next: rolledBack(plan, state, destination, now),
        event: { action: 'rollback', from: at, to: destination.percent, reason: request.reason ?? 'rolled back by hand', actor: by },
        towardsSafety: true,
        ends: 'rolled-back',
        message: `the run rolled ${plan.name} back: ${at}% → ${destination.percent}%`,
      };
    }
    case 'approve': {
      const toStage = state.stageIndex + 1;
      const next = plan.stages[toStage];
      if (state.completed || !next) return { type: 'refuse', message: `${plan.name} has no stage after ${at}% to approve`, exitCode: ExitCode.held };
      if (!next.approval) {
        return { type: 'refuse', message: `the next stage (${next.percent}%) needs no approval: the run advances by itself once ${at}% has baked healthy`, exitCode: ExitCode.held };
      }
      return { type: 'approve', toStage, message: `approved: the run advances to ${next.percent}% once ${at}% has baked healthy` };
    }
  }
}
