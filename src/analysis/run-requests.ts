/**
 * The run's side of requests (issue 17): while `run` holds a rollout's lock, `hold`, `resume`,
 * `advance` and `rollback` from another process post a request in the store (rollout/requests.ts
 * makes them, rollout/ask-run.ts waits for the answer). The run looks for them in the background
 * and acts on each itself, through its own commit path, as the requester: its `guard` stops a run
 * whose state someone else wrote, so requests are never applied by the requesting process.
 * `decideRequest` is pure; the desk keeps what was taken and answers each request.
 */
import { ExitCode, RolloutError } from '../errors.js';
import type { EventAction, Plan } from '../plan/types.js';
import { pauseRollout, resumeRollout, rollbackDestination, rolledBack } from '../state/transitions.js';
import type { Change, HistoryEvent, RequestAnswer, RolloutState, RunRequest } from '../state/types.js';

/** The event a request's change records, with the requester as actor. */
export interface RequestEvent {
  action: EventAction;
  from: number;
  to: number;
  reason: string;
  actor: string;
}

/** What the run does with a request. */
export type RequestAction =
  /** A state change to commit as the requester; `ends` stops the run once committed. */
  | { type: 'change'; next: RolloutState; event: RequestEvent; towardsSafety?: boolean; ends?: 'rolled-back'; message: string }
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

/** What the desk needs from the run: the store's request effects, and how it commits and ends. */
export interface DeskEffects {
  takeRequests?(): Promise<RunRequest[]>;
  answer?(answer: RequestAnswer): Promise<void>;
}

/** How the desk acts through the run: its state, commit path (false: store unreachable), events and end. */
export interface DeskRun<Outcome> {
  plan: Plan;
  state(): RolloutState;
  now(): number;
  commit(change: Change): Promise<boolean>;
  event(fields: RequestEvent): HistoryEvent;
  end(reason: string): Promise<Outcome>;
}

/** The run's request desk: looks for requests in the background, acts on them in order, answers each. */
export function createRequestDesk(effects: DeskEffects) {
  const pending: RunRequest[] = [];
  let looking: Promise<void> | undefined;
  let approval: { request: RunRequest; toStage: number } | undefined;
  const reply = (request: RunRequest, applied: boolean, message: string, exitCode: number) =>
    effects.answer?.({ id: request.id, applied, message, exitCode }).catch(() => undefined);

  return {
    /** Whether this run takes requests at all. */
    enabled: effects.takeRequests !== undefined,
    /** Paused on request: the run stays and waits for a resume, instead of ending as for a pause it found. */
    pausedHere: false,
    get waiting(): boolean {
      return pending.length > 0;
    },
    /**
     * Starts a look for requests unless one is under way: a slow or unreachable store must never
     * delay a poll (the commit path reports it), and what a look finds is acted on next.
     */
    look(): void {
      if (!effects.takeRequests || looking) return;
      looking = effects
        .takeRequests()
        .then((found) => void pending.push(...found), () => undefined)
        .finally(() => (looking = undefined));
    },
    /** The approval given for the gate of stage `toStage`, taken (once). */
    approvalFor(toStage: number): RunRequest | undefined {
      if (approval?.toStage !== toStage) return undefined;
      const { request } = approval;
      approval = undefined;
      return request;
    },
    /** Answers every request taken and not acted on: the run is ending. */
    async dismiss(reason: string): Promise<void> {
      for (const request of pending.splice(0)) await reply(request, false, `the run ended first: ${reason}`, ExitCode.conflict);
    },
    /** Acts on the requests taken, in order, as their requesters; the run's outcome when one ended it. */
    async act<Outcome>(run: DeskRun<Outcome>): Promise<Outcome | undefined> {
      // Taken one by one: those behind a request that ends the run stay pending, and are dismissed.
      for (let request = pending.shift(); request; request = pending.shift()) {
        const action = decideRequest(run.plan, run.state(), request, run.now());
        if (action.type === 'refuse') {
          await reply(request, false, action.message, action.exitCode);
          continue;
        }
        if (action.type === 'approve') {
          approval = { request, toStage: action.toStage };
          await reply(request, true, action.message, ExitCode.ok);
          continue;
        }
        const change = { from: run.state().percent, to: action.next.percent, next: action.next, events: [run.event(action.event)], towardsSafety: action.towardsSafety };
        const committed = await run.commit(change).catch(async (err: unknown) => {
          await reply(request, false, `the run could not do it: ${err instanceof Error ? err.message : String(err)}`, err instanceof RolloutError ? err.exitCode : ExitCode.unexpected);
          throw err;
        });
        if (!committed) {
          await reply(request, false, 'the state store did not answer; nothing changed (the run retries its own work, not this request)', ExitCode.targetFailed);
          continue;
        }
        this.pausedHere = run.state().paused !== undefined;
        await reply(request, true, action.message, ExitCode.ok);
        // The rest are answered as the run ends.
        if (action.ends) return run.end(`rolled back by ${request.by}: ${action.event.reason}`);
      }
      return undefined;
    },
  };
}
