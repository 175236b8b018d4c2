/**
 * The core of `rollout run`: from whatever state it is given, apply a stage, poll every
 * `analysis.interval` while it bakes, and let decide() say advance, hold, roll back, wait for a
 * human or stop. Everything that touches the world comes in as effects and the clock is injected,
 * so a seven-day plan runs in milliseconds under a fake clock and every crash point can be replayed.
 *
 * Timing: polls are due on a fixed grid of the monotonic clock (due += interval), not "sleep an
 * interval after each poll", so a week of 1-second polls does not drift by the polls' own
 * duration; a poll that overruns its slot is followed at once by the next, never by a burst of
 * catch-up polls. Hence a metric turning critical is rolled back within
 * interval × failureLimit + one read + one write.
 */
import type { Clock } from '../clock.js';
import { ExitCode, InterruptedError, RolloutError, StateStoreError } from '../errors.js';
import type { EventAction, Plan } from '../plan/types.js';
import { completeRollout, enterStage, keepCounters as withCounters, notStarted, rollbackDestination, rolledBack } from '../state/transitions.js';
import type { Change, HistoryEvent, RequestAnswer, RolloutState, RunRequest } from '../state/types.js';
import { createRequestDesk } from './run-requests.js';
import { bakeLeftMs, decide, type Decision, type DecisionCounters } from './decide.js';
import type { Judgement } from './judge.js';

/** What a history event says; the `event` effect stamps it with the time and the actor. */
export interface EventFields {
  action: EventAction;
  from: number;
  to: number;
  reason: string;
  judgement?: Judgement;
  verdict?: HistoryEvent['verdict'];
  /** Who asked for it, when not this process's actor (a request the run carried out). */
  actor?: string;
}

/** How a run ends. */
export type RunOutcomeKind =
  | 'complete'
  | 'until'
  | 'paused'
  | 'approval'
  | 'max-hold'
  | 'timeout'
  | 'rolled-back'
  | 'interrupted';

/** The exit code of each way a run ends (SPEC §4 `run`). */
const OUTCOME_EXIT_CODE: Record<RunOutcomeKind, ExitCode> = {
  complete: ExitCode.ok,
  until: ExitCode.ok,
  paused: ExitCode.held,
  approval: ExitCode.held,
  'max-hold': ExitCode.held,
  timeout: ExitCode.held,
  'rolled-back': ExitCode.critical,
  interrupted: ExitCode.interrupted,
};

/** Where the run stopped, and why. `state` is what was last committed. */
export interface RunOutcome {
  kind: RunOutcomeKind;
  exitCode: ExitCode;
  state: RolloutState;
  reason: string;
}

/** A reading of one poll, as shown and printed. */
export interface PollView {
  stageIndex: number;
  percent: number;
  enteredAt: number;
  bakeMs: number;
  bakeLeftMs: number;
  verdict: Judgement['verdict'];
  reasons: string[];
  readings: Judgement['readings'];
  decision: Decision['action'] | 'warmup' | 'standing-by';
  reason: string;
  consecutiveCritical: number;
}

/** What `rollout run` reports as it goes: one of these per line with `--json`. */
export type RunEvent =
  | { type: 'run-start'; plan: string; stageIndex: number; percent: number; stages: number; resumed: boolean }
  | ({ type: 'poll' } & PollView)
  /** A history event the run recorded. */
  | { type: 'event'; event: HistoryEvent }
  | { type: 'notify-failed'; action: EventAction; receiver: string; to: string; error: string }
  | { type: 'recovery'; recovered: boolean; reason: string; watchedMs: number }
  /** State could not be written; nothing was applied, and the loop holds and retries next interval. */
  | { type: 'store-unavailable'; percent: number; reason: string }
  /** `stageIndex`: where the run left the rollout (-1 before the first stage). */
  | { type: 'run-end'; outcome: RunOutcomeKind; exitCode: ExitCode; percent: number; stageIndex: number; reason: string };

/** The world as the loop sees it. Only `poll` may be cut short by an interrupt: a commit always finishes. */
export interface RunEffects {
  /** Reads and judges every metric once. */
  poll(state: RolloutState): Promise<Judgement>;
  /**
   * Before each poll while the loop holds the lock: throws when state is no longer the loop's
   * own (an emergency rollback fenced it), so a fenced run stops instead of polling on.
   */
  guard(state: RolloutState): Promise<void>;
  /** Applies the change to the target, then records it; on failure puts the target back and throws. */
  commit(change: Change): Promise<void>;
  /** Appends events without changing state. */
  record(events: HistoryEvent[]): Promise<void>;
  /** Delivers an event to the plan's receivers; must not throw (failures are the effect's to report). */
  notify(event: HistoryEvent): Promise<void>;
  /** Shows progress. */
  emit(event: RunEvent): void;
  /** Builds a history event stamped with now and the actor. */
  event(fields: EventFields): HistoryEvent;
  /**
   * While waiting for approval: lets go of the lock so a human's `rollout advance` (or `hold`,
   * `rollback`) can run, and returns the state as stored now.
   */
  standBy(): Promise<RolloutState | undefined>;
  /** Takes the lock back after `standBy`. */
  reclaim(): Promise<void>;
  /** Requests other commands posted for this run (rollout/requests.ts); checked about every second while it sleeps. */
  takeRequests?(): Promise<RunRequest[]>;
  /** Tells the requester what became of its request. */
  answer?(answer: RequestAnswer): Promise<void>;
}

/** How often a sleeping run looks for requests. */
const REQUEST_CHECK_MS = 1000;

/** How far and how long to run. */
export interface RunLoopOptions {
  /** Stop (exit 0) once the stage with this index has baked healthy, instead of advancing past it. */
  untilStage?: number;
  /** Stop (exit 3, state kept) after this long. */
  timeoutMs?: number;
  /** At an approval stage, keep polling until a human advances instead of stopping with exit 3. */
  waitApproval?: boolean;
}

/** Everything one run needs. */
export interface RunLoopInput {
  plan: Plan;
  /** Where the rollout stands (undefined: not started). */
  state: RolloutState | undefined;
  clock: Clock;
  /** Aborted on SIGINT/SIGTERM: the loop finishes any commit in flight, then returns `interrupted`. */
  signal: AbortSignal;
  effects: RunEffects;
  options?: RunLoopOptions;
}

/** Runs the rollout until it completes, reaches `untilStage`, stops, rolls back or is interrupted. */
export async function runLoop(input: RunLoopInput): Promise<RunOutcome> {
  const { plan, clock, signal, effects } = input;
  const options = input.options ?? {};
  const intervalMs = plan.analysis.intervalMs;
  const deadline = options.timeoutMs === undefined ? Infinity : clock.monotonic() + options.timeoutMs;
  const notifications: Promise<void>[] = [];
  let state = input.state ?? notStarted(plan);
  /** When the next poll is due, on the monotonic clock. */
  let due = clock.monotonic();
  /** Waiting for approval with the lock let go. */
  let standingBy = false;
  const desk = createRequestDesk(effects);

  const finish = async (kind: RunOutcomeKind, reason: string): Promise<RunOutcome> => {
    // Notifications never delay a decision; they are only waited for before the run returns.
    await Promise.all(notifications);
    // Requests taken and not acted on are answered, so their requesters do not wait in vain.
    await desk.dismiss(reason);
    return { kind, exitCode: OUTCOME_EXIT_CODE[kind], state, reason };
  };

  const announce = (events: HistoryEvent[]) => {
    for (const event of events) {
      effects.emit({ type: 'event', event });
      notifications.push(effects.notify(event).catch(() => undefined));
    }
  };

  /**
   * Commits a change; false when the state store is unreachable. commitChange checks the store
   * before it touches the target, so nothing was applied: the loop holds and retries, never
   * advancing blind. A rollback is different: it goes ahead unrecorded and its failure propagates.
   */
  const commit = async (change: Change): Promise<boolean> => {
    try {
      await effects.commit(change);
    } catch (err) {
      if (!(err instanceof StateStoreError) || change.towardsSafety) throw err;
      effects.emit({ type: 'store-unavailable', percent: state.percent, reason: `${err.message}; holding at ${state.percent}%, retrying every interval` });
      due = clock.monotonic() + intervalMs;
      return false;
    }
    state = change.next;
    announce(change.events);
    return true;
  };

  const record = async (events: HistoryEvent[]) => {
    await effects.record(events);
    announce(events);
  };

  const reclaim = async () => {
    if (!standingBy) return;
    await effects.reclaim();
    standingBy = false;
  };

  /**
   * Keeps decide()'s counters in state (a restarted run resumes them), and the comparison metrics'
   * counts of the stage (`evidence`), and records a hold as it begins.
   */
  const keepCounters = async (counters: DecisionCounters, events: HistoryEvent[], evidence = state.evidence) => {
    const changed =
      counters.consecutiveCritical !== state.consecutiveCritical ||
      counters.holdingSince !== state.holdingSince ||
      counters.bakeRestart?.at !== state.bakeRestart?.at ||
      evidence !== state.evidence;
    if (!changed) {
      if (events.length > 0 && !standingBy) await record(events);
      return;
    }
    const next = { ...withCounters(state, counters), evidence };
    // Standing by, writing would need the lock a human may be using; the counters live in memory meanwhile.
    if (standingBy) state = { ...next, version: state.version };
    else await commit({ from: state.percent, to: state.percent, next, events });
  };

  const holdEvent = (reason: string, judgement: Judgement) =>
    effects.event({ action: 'hold', from: state.percent, to: state.percent, reason, judgement });

  /** Applies stage `index`; false when the state store was unreachable and nothing was applied. */
  const enter = async (action: 'start' | 'advance', index: number, reason: string, judgement?: Judgement, actor?: string): Promise<boolean> => {
    const stage = plan.stages[index];
    if (!stage) throw new Error(`no stage ${index}`);
    const event = effects.event({ action, from: state.percent, to: stage.percent, reason, judgement, verdict: judgement ? undefined : 'skipped', actor });
    // Canary traffic needs an interval to show up in the metrics.
    const committed = await commit({ from: state.percent, to: stage.percent, next: enterStage(plan, state, index, clock.now()), events: [event] });
    if (committed) due = clock.monotonic() + intervalMs;
    return committed;
  };

  /**
   * Sleeps until `at` (monotonic), waking early when a request comes in; false when the
   * --timeout deadline comes first.
   */
  const sleepUntil = async (at: number): Promise<boolean> => {
    const wake = Math.min(at, deadline);
    for (let ms = wake - clock.monotonic(); ms > 0 && !desk.waiting; ms = wake - clock.monotonic()) {
      const checking = desk.enabled && !standingBy;
      await clock.sleep(checking ? Math.min(ms, REQUEST_CHECK_MS) : ms, signal);
      if (checking) desk.look();
    }
    // Woken early by a request, the run acts on it while the deadline has not come.
    return clock.monotonic() < deadline;
  };

  const pastUntil = (index: number) => options.untilStage !== undefined && index > options.untilStage;
  const untilReason = () => `reached --until ${plan.stages[options.untilStage ?? -1]?.percent}%: stage baked healthy`;

  try {
    for (;;) {
      if (signal.aborted) return await finish('interrupted', `interrupted at ${state.percent}%; state and target agree`);
      if (state.paused && !desk.pausedHere) return await finish('paused', `paused by ${state.paused.by}: ${state.paused.reason} (resume with \`rollout resume\`)`);
      if (state.completed) return await finish('complete', `complete at ${state.percent}%`);
      if (pastUntil(state.stageIndex)) return await finish('until', `already past --until: at ${state.percent}%`);
      if (state.stageIndex < 0) {
        const started = await enter('start', 0, `start at ${plan.stages[0]?.percent}%`);
        if (!started && !(await sleepUntil(due))) return await finish('timeout', `--timeout reached at ${state.percent}%; state kept`);
        continue;
      }
      if (!(await sleepUntil(due))) return await finish('timeout', `--timeout reached at ${state.percent}%; state kept`);
      if (standingBy) {
        const latest = await effects.standBy();
        if (!latest || latest.version !== state.version) {
          await reclaim();
          const movedDown = !latest || latest.rolledBack || latest.stageIndex < state.stageIndex;
          state = latest ?? notStarted(plan);
          // A human rolled back while we waited: restarting from there would undo their decision.
          if (movedDown) return await finish('rolled-back', `rolled back by another command while waiting for approval, at ${state.percent}%`);
          due = clock.monotonic();
          continue;
        }
      }
      if (!standingBy) desk.look();
      if (desk.waiting) {
        const ended = await desk.act({ plan, state: () => state, now: () => clock.now(), commit, event: effects.event, end: (reason) => finish('rolled-back', reason) });
        if (ended) return ended;
        continue;
      }

      if (!standingBy) await effects.guard(state);
      const judgement = await effects.poll(state);
      const now = clock.now();
      due = Math.max(due + intervalMs, clock.monotonic());
      const stage = plan.stages[state.stageIndex];
      const view = (decision: PollView['decision'], reason: string, consecutiveCritical: number): RunEvent => ({
        type: 'poll',
        stageIndex: state.stageIndex,
        percent: state.percent,
        enteredAt: state.enteredAt,
        bakeMs: stage?.bakeMs ?? 0,
        bakeLeftMs: bakeLeftMs(plan, state, now),
        verdict: judgement.verdict,
        reasons: judgement.reasons,
        readings: judgement.readings,
        decision,
        reason,
        consecutiveCritical,
      });
      if (judgement.warmingUp) {
        // Warm-up readings are shown, never acted on: they must not start a hold or count criticals.
        effects.emit(view('warmup', judgement.reasons.join('; '), state.consecutiveCritical));
        continue;
      }
      const { decision, counters } = decide({ plan, state, judgement, now, mode: 'auto' });
      const waiting = standingBy && decision.action === 'wait-approval';
      effects.emit(view(waiting ? 'standing-by' : decision.action, decision.reason, counters.consecutiveCritical));

      switch (decision.action) {
        case 'start':
        case 'advance':
          if (pastUntil(decision.toStage)) return await finish('until', untilReason());
          await enter(decision.action, decision.toStage, decision.reason, judgement);
          break;
        case 'complete':
          if (!(await commit({ from: state.percent, to: state.percent, next: completeRollout(state), events: [effects.event({ action: 'complete', from: state.percent, to: state.percent, reason: decision.reason, judgement })] }))) break;
          return await finish('complete', decision.reason);
        case 'hold':
        case 'critical': {
          const begins = state.holdingSince === undefined && counters.holdingSince !== undefined;
          await keepCounters(counters, begins ? [holdEvent(decision.reason, judgement)] : [], judgement.evidence);
          // A healthy stage still baking is polled once more the moment its bake ends.
          if (decision.action === 'hold' && decision.retryInMs !== undefined) due = Math.min(due, clock.monotonic() + decision.retryInMs);
          break;
        }
        case 'rollback': {
          await reclaim();
          const destination = rollbackDestination(plan, plan.rollback.to, state.percent);
          const event = effects.event({ action: 'rollback', from: state.percent, to: destination.percent, reason: decision.reason, judgement });
          await commit({ from: state.percent, to: destination.percent, next: rolledBack(plan, state, destination, clock.now()), events: [event], towardsSafety: true });
          return await finish('rolled-back', decision.reason);
        }
        case 'wait-approval':
          if (pastUntil(decision.toStage)) return await finish('until', untilReason());
          const approved = standingBy ? undefined : desk.approvalFor(decision.toStage);
          if (approved) {
            await enter('advance', decision.toStage, `approved by ${approved.by}${approved.reason ? `: ${approved.reason}` : ''}; ${decision.reason}`, judgement, approved.by);
            break;
          }
          if (standingBy) break;
          await keepCounters(counters, [holdEvent(decision.reason, judgement)], judgement.evidence);
          if (!options.waitApproval) return await finish('approval', `${decision.reason} (or rerun with --wait-approval)`);
          await effects.standBy();
          standingBy = true;
          break;
        case 'fail':
          await reclaim();
          await keepCounters(counters, [holdEvent(`stopped: ${decision.reason}`, judgement)]);
          return await finish('max-hold', decision.reason);
      }
    }
  } catch (err) {
    if (isInterruption(err, signal)) return finish('interrupted', `interrupted at ${state.percent}%; state and target agree`);
    // The events already recorded are still worth telling people about.
    await Promise.all(notifications);
    throw err;
  }
}

/**
 * True when `err` is the abort of a sleep or a poll. A failed commit keeps its own error and exit
 * code even when a signal arrived meanwhile: "target failed, put back to 25 %" says more than 130.
 */
function isInterruption(err: unknown, signal: AbortSignal): boolean {
  if (!signal.aborted) return false;
  return err instanceof InterruptedError || !(err instanceof RolloutError);
}
