/**
 * `rollout status [plan]`: what an on-call engineer reads in two seconds — stage, percent, time in
 * stage, bake left, pause and drift; each metric against its limits with a trend; the verdict and
 * the next action in words. `--watch` refreshes in place; `--exit-code` exits like `check`.
 */
import { bakeLeftMs, decide } from '../analysis/decide.js';
import type { Judgement } from '../analysis/judge.js';
import { createStatusDisplay, metricTrends, type StatusSnapshot } from '../cli/status-view.js';
import { ExitCode, UsageError } from '../errors.js';
import { parseDuration } from '../plan/duration.js';
import type { Plan } from '../plan/types.js';
import type { HistoryEvent, RolloutState, StateStore } from '../state/types.js';
import { compareDrift } from '../targets/drift.js';
import type { Target } from '../targets/target.js';
import type { CommandContext, CommandResult } from '../context.js';
import { createMeter, type Meter } from '../rollout/meter.js';
import { lastRollback, nextStep, statusExitCode, type CommandSpelling } from '../rollout/next-step.js';
import { buildTarget, openStore, peekState, stateDirOf, type StateOptions } from '../rollout/open.js';
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
  const view: StatusView = {
    plan,
    spelling: { plan: options.plan, stateDir: options.stateDir },
    store: await openStore(plan, options, ctx),
    target: await buildTarget(plan.target, ctx),
    meter: createMeter(plan, stateDirOf(plan, options), ctx),
  };
  const display = await createStatusDisplay(ctx.out, Boolean(options.watch && !options.json));
  try {
    for (;;) {
      const { snapshot, judgement } = await takeSnapshot(view, ctx);
      // Reads cut short by Ctrl-C are not a status: the command ends as interrupted (exit 130).
      ctx.signal.throwIfAborted();
      // --watch --json: one document per refresh, one per line (JSON lines).
      // The documents module is loaded only for --json: status's start-up is bench-measured.
      if (options.json) ctx.out.printJson((await import('../cli/json-documents.js')).statusDocument(snapshot, ctx.clock.now()));
      else display.show({ plan, snapshot, judgement, trends: metricTrends(plan, await recentReadings(view.store)), now: ctx.clock.now() });
      if (!options.watch) return { exitCode: options.exitCode ? snapshot.exitCode : ExitCode.ok };
      await ctx.clock.sleep(refreshMs, ctx.signal);
    }
  } finally {
    display.close();
    await view.store.close();
  }
}

/** What every refresh of the status reads from. */
interface StatusView {
  plan: Plan;
  /** How the user named the plan and state dir, so suggested commands work as typed. */
  spelling: CommandSpelling;
  store: StateStore;
  target: Target;
  meter: Meter;
}

async function takeSnapshot(view: StatusView, ctx: CommandContext): Promise<{ snapshot: StatusSnapshot; judgement?: Judgement }> {
  const { plan } = view;
  const state = await peekState(view.store, ctx);
  const now = ctx.clock.now();
  const started = state !== undefined && state.stageIndex >= 0;
  // Judged in every state, as `check` judges: a rollout rolled back, complete or not yet started
  // (perhaps with the target already up) still has metrics worth seeing, and --exit-code agrees.
  const [target, judgement, rollback] = await Promise.all([
    readTarget(view.target, state, ctx),
    plan.metrics.length > 0 ? view.meter.judge(state) : Promise.resolve(undefined),
    state?.rolledBack ? view.store.history().then(lastRollback, () => undefined) : Promise.resolve(undefined),
  ]);
  const { decision } = decide({ plan, state, judgement, now, mode: 'manual' });
  const planChange = planMismatch(plan, state);
  const fenced = unfinishedEmergency(state, now);
  return {
    judgement,
    snapshot: {
      plan: plan.name,
      stage: started && !planChange ? { index: state.stageIndex + 1, of: plan.stages.length, percent: state.percent } : null,
      stages: plan.stages.length,
      percent: state?.percent ?? 0,
      planChange,
      ...(started && planChange && state.stages ? { recordedStage: { index: state.stageIndex + 1, of: state.stages.length } } : {}),
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
      rollback,
      next: nextStep({ plan, state, decision, spelling: view.spelling, target, fenced, planChange, rollback }),
      exitCode: statusExitCode({ judgement, drift: target.drift, fenced, planChange }),
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
