/**
 * `rollout status [plan]`: what an on-call engineer reads in two seconds — stage, percent, time in
 * stage, bake left, pause and drift; each metric against its limits with a trend; the verdict and
 * the next action in words. `--watch` refreshes in place; `--exit-code` exits like `check`.
 */
import { bakeLeftMs, decide, type Decision } from '../analysis/decide.js';
import type { Judgement } from '../analysis/judge.js';
import { metricTrends, printStatus, type StatusSnapshot } from '../cli/status-view.js';
import { ExitCode, UsageError } from '../errors.js';
import { formatDuration, parseDuration } from '../plan/duration.js';
import type { Plan } from '../plan/types.js';
import type { HistoryEvent, RolloutState, StateStore } from '../state/types.js';
import { createTarget } from '../targets/create-target.js';
import { compareDrift } from '../targets/drift.js';
import type { Target } from '../targets/target.js';
import type { CommandContext, CommandResult } from './context.js';
import { createMeter, verdictExitCode, type Meter } from '../rollout/meter.js';
import { openStore, peekState, stateDirOf, type StateOptions } from '../rollout/open.js';
import { planMismatch, unfinishedEmergency } from '../rollout/guards.js';
import { loadPlanForCommand } from '../rollout/plan.js';

export interface StatusOptions extends StateOptions {
  watch?: boolean;
  interval?: string;
  exitCode?: boolean;
}

/** Shows the status once, or until interrupted with --watch. */
export async function statusCommand(options: StatusOptions, ctx: CommandContext): Promise<CommandResult> {
  const plan = await loadPlanForCommand(options.plan, ctx);
  const refreshMs = options.interval ? parseDuration(options.interval) : plan.analysis.intervalMs;
  if (refreshMs === undefined) throw new UsageError(`--interval ${options.interval} is not a duration`, 'use e.g. --interval 10s');
  // One store, target and meter for every refresh of --watch.
  const view: StatusView = { plan, store: await openStore(plan, options, ctx), target: await (ctx.world?.createTarget ?? createTarget)(plan.target), meter: createMeter(plan, stateDirOf(plan, options), ctx) };
  try {
    for (;;) {
      const { snapshot, judgement } = await takeSnapshot(view, ctx);
      if (options.json) ctx.out.printJson(snapshot);
      else printStatus(ctx.out, { plan, snapshot, judgement, trends: metricTrends(plan, await recentReadings(view.store)), now: ctx.clock.now(), refresh: options.watch ?? false });
      if (!options.watch) return { exitCode: options.exitCode && judgement ? verdictExitCode(judgement) : ExitCode.ok };
      await ctx.clock.sleep(refreshMs, ctx.signal);
    }
  } finally {
    await view.store.close();
  }
}

/** What every refresh of the status reads from. */
interface StatusView {
  plan: Plan;
  store: StateStore;
  target: Target;
  meter: Meter;
}

async function takeSnapshot(view: StatusView, ctx: CommandContext): Promise<{ snapshot: StatusSnapshot; judgement?: Judgement }> {
  const { plan } = view;
  const state = await peekState(view.store, ctx);
  const now = ctx.clock.now();
  const started = state !== undefined && state.stageIndex >= 0;
  const [target, judgement] = await Promise.all([
    readTarget(view.target, state, ctx),
    plan.metrics.length > 0 && started && !state.completed ? view.meter.judge(state) : Promise.resolve(undefined),
  ]);
  const { decision } = decide({ plan, state, judgement, now, mode: 'manual' });
  const planChange = planMismatch(plan, state);
  const fenced = unfinishedEmergency(state, now);
  return {
    judgement,
    snapshot: {
      plan: plan.name,
      stage: started && !planChange ? { index: state.stageIndex + 1, of: plan.stages.length, percent: state.percent } : null,
      percent: state?.percent ?? 0,
      planChange,
      emergency: fenced,
      bakeRestart: started ? state.bakeRestart : undefined,
      started,
      completed: state?.completed ?? false,
      rolledBack: state?.rolledBack ?? false,
      paused: state?.paused,
      timeInStageMs: started ? now - state.enteredAt : undefined,
      bakeLeftMs: started ? bakeLeftMs(plan, state, now) : undefined,
      target,
      verdict: judgement?.verdict,
      reasons: judgement?.reasons ?? [],
      readings: judgement?.readings ?? [],
      next: fenced
        ? 'finish the emergency: `rollout rollback --emergency`'
        : planChange
          ? 'the plan changed: `rollout advance --adopt` carries on under the new stages, or `rollout rollback`'
          : nextAction(decision, plan, state),
    },
  };
}

async function readTarget(target: Target, state: RolloutState | undefined, ctx: CommandContext): Promise<StatusSnapshot['target']> {
  try {
    const percent = await target.read(ctx.signal);
    const drift = compareDrift(percent, state?.percent);
    return { percent, drift: drift.drift, message: drift.message };
  } catch (err) {
    return { drift: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The next action, in words. */
export function nextAction(decision: Decision, plan: Plan, state: RolloutState | undefined): string {
  const next = state ? plan.stages[state.stageIndex + 1] : plan.stages[0];
  switch (decision.action) {
    case 'start':
      return `start: \`rollout advance\` applies ${plan.stages[0]?.percent}%`;
    case 'advance':
      return `advance possible now: \`rollout advance\` → ${next?.percent}%`;
    case 'complete':
      return 'complete: `rollout advance` marks the rollout complete';
    case 'done':
      return 'done: the rollout is complete at 100%';
    case 'critical':
      return `roll back: ${decision.reason}`;
    case 'hold':
      return decision.retryInMs !== undefined ? `advance possible in ${formatDuration(decision.retryInMs)}` : `hold: ${decision.reason}`;
    default:
      return decision.reason;
  }
}

/**
 * The readings for the trend column: the poll log `run` keeps, else the readings in history. An
 * unreadable poll log or history is no trend, never a hidden status.
 */
async function recentReadings(store: StateStore): Promise<Pick<HistoryEvent, 'metrics'>[]> {
  try {
    const samples = await store.samples();
    return samples.length > 0 ? samples : await store.history();
  } catch {
    return [];
  }
}
