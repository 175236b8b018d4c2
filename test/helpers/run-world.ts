/**
 * The run loop's world under a fake clock: a fake target and store that behave like the real ones
 * (apply then save, compare-and-set on the version), a metric whose value is a function of time,
 * and the real judge and decide. Weeks of polling run in milliseconds.
 */
import { inWarmup } from '../../src/analysis/decide.js';
import { judgePoll, type Judgement } from '../../src/analysis/judge.js';
import { runLoop, type RunEffects, type RunEvent, type RunLoopOptions, type RunOutcome } from '../../src/analysis/run-loop.js';
import type { Plan } from '../../src/plan/types.js';
import { historyEvent } from '../../src/rollout/events.js';
import type { Change, HistoryEvent, RequestAnswer, RolloutState, RunRequest } from '../../src/state/types.js';
import { FakeClock } from './fake-clock.js';
import { planFromYaml } from './plan.js';

export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

export const OK = 0.001;
export const WARNING = 0.02;
export const CRITICAL = 0.1;

/** A plan with one error-rate metric (warning > 1 %, critical > 5 %); `analysis` entries override the defaults. */
export function makePlan(stages = '[10, 50, 100]', analysis: Record<string, string | number> = {}, extra = ''): Promise<Plan> {
  const settings = Object.entries({ interval: '30s', bake: '10m', failureLimit: 2, maxHold: '1h', ...analysis });
  return planFromYaml(`
version: 1
name: loop
stages: ${stages}
analysis: { ${settings.map(([k, v]) => `${k}: ${v}`).join(', ')} }
sources: { app: { type: json, url: "http://127.0.0.1:9/m" } }
metrics:
  - { name: error_rate, source: app, path: error_rate, unit: ratio, warning: "> 1%", critical: "> 5%" }
target: { type: command, set: [echo, "{{percent}}"] }
${extra}
`);
}

/** Thrown by a fake effect to simulate the process dying at that step. */
export class Crash extends Error {}

type Step = 'poll' | 'apply' | 'save' | 'record';

/** The world outside the loop: target, store, receivers, and what the loop did to them. */
export class World {
  readonly clock = new FakeClock();
  target = 0;
  stored: RolloutState | undefined;
  readonly history: HistoryEvent[] = [];
  readonly notified: HistoryEvent[] = [];
  readonly emitted: RunEvent[] = [];
  /** Monotonic start time of every poll. */
  readonly pollStarts: number[] = [];
  /** Monotonic time each rollback was applied to the target. */
  readonly rollbackWrites: number[] = [];
  private readonly judgements = new Map<string, Judgement>();
  lockHeld = true;
  readonly lockLog: string[] = [];
  steps = 0;
  crashAt?: number;
  pollMs = 0;
  applyMs = 0;
  /** The metric's value at wall time `t`. */
  metric: (t: number, world: World) => number = () => OK;
  /** Runs on every standBy (a human acting while the run waits). */
  onStandBy?: (world: World) => void;
  /** Runs between the apply and the save of a commit (a signal arriving mid-apply). */
  midApply?: (change: Change) => void;
  /** Requests other commands post, each from a monotonic time on; undefined: this run takes none. */
  inbox?: { from: number; request: RunRequest }[];
  /** Every look for requests: when (monotonic), and whether the run held the lock. */
  readonly looks: { at: number; lockHeld: boolean }[] = [];
  readonly answers: RequestAnswer[] = [];
  /** Every guard call: whether the run held the lock. */
  readonly guards: boolean[] = [];

  constructor(readonly plan: Plan) {}

  private step(name: Step): void {
    this.steps++;
    if (this.steps === this.crashAt) throw new Crash(`crash at step ${this.steps} (${name})`);
  }

  effects(): RunEffects {
    const ctx = { env: { ROLLOUT_ACTOR: 'loop-test' }, clock: this.clock };
    return {
      poll: async (state) => {
        this.step('poll');
        this.pollStarts.push(this.clock.monotonic());
        this.clock.advance(this.pollMs);
        // The value is read at the end of the poll: the worst case for the onset bound.
        const value = this.metric(this.clock.now(), this);
        const warm = inWarmup(this.plan, state, this.clock.now());
        // Judgements are plain data and values repeat: judging each distinct reading once keeps a
        // week of polls about the loop's own speed, not the judge's.
        const key = `${value}/${warm}`;
        let judgement = this.judgements.get(key);
        if (!judgement) this.judgements.set(key, (judgement = judgePoll(this.plan, [{ name: 'error_rate', value }], { warmingUp: warm })));
        return judgement;
      },
      commit: async (change) => {
        if (!this.lockHeld) throw new Error('commit without the lock');
        if (change.from !== change.to) {
          this.step('apply');
          this.clock.advance(this.applyMs);
          this.target = change.to;
          if (change.events.some((e) => e.action === 'rollback')) this.rollbackWrites.push(this.clock.monotonic());
          this.midApply?.(change);
        }
        this.step('save');
        if (change.next.version !== (this.stored?.version ?? 0) + 1) throw new Error(`version conflict: ${change.next.version}`);
        this.stored = change.next;
        this.history.push(...change.events);
        if (this.target !== this.stored.percent) throw new Error('state and target disagree after a commit');
      },
      record: async (events) => {
        if (!this.lockHeld) throw new Error('record without the lock');
        this.step('record');
        this.history.push(...events);
      },
      // Not a crash point: notifications are not awaited, so dying during one is dying at the next step.
      notify: async (event) => {
        this.notified.push(event);
      },
      emit: (event) => this.emitted.push(event),
      event: (fields) => historyEvent(this.plan, ctx, fields),
      standBy: async () => {
        this.lockHeld = false;
        this.lockLog.push('let go');
        this.onStandBy?.(this);
        return this.stored;
      },
      reclaim: async () => {
        this.lockHeld = true;
        this.lockLog.push('reclaimed');
      },
      guard: async () => void this.guards.push(this.lockHeld),
      ...(this.inbox && {
        takeRequests: async () => {
          const now = this.clock.monotonic();
          this.looks.push({ at: now, lockHeld: this.lockHeld });
          const posted = this.inbox?.filter((p) => p.from <= now) ?? [];
          this.inbox = this.inbox?.filter((p) => p.from > now);
          return posted.map((p) => p.request);
        },
        answer: async (answer: RequestAnswer) => void this.answers.push(answer),
      }),
    };
  }

  run(options: RunLoopOptions = {}, signal = new AbortController().signal): Promise<RunOutcome> {
    return this.runWith(this.effects(), options, signal);
  }

  /** Runs with `effects` (this world's, with some replaced). */
  runWith(effects: RunEffects, options: RunLoopOptions = {}, signal = new AbortController().signal): Promise<RunOutcome> {
    return runLoop({ plan: this.plan, state: this.stored, clock: this.clock, signal, effects, options });
  }

  actions(): string[] {
    return this.history.map((e) => e.action);
  }

  polls(): Extract<RunEvent, { type: 'poll' }>[] {
    return this.emitted.filter((e): e is Extract<RunEvent, { type: 'poll' }> => e.type === 'poll');
  }
}

/** A metric script by poll: the n-th judged poll (0-based, warm-up excluded) reads values[n], then `rest`. */
export function byPoll(values: number[], rest = OK): (t: number, world: World) => number {
  let n = 0;
  return () => values[n++] ?? rest;
}
