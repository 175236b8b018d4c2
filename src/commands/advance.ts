/**
 * `rollout advance [plan]`: checks lock, drift and pause; judges now; applies the next stage only
 * when healthy and baked (from "not started", the first stage, unjudged). Exit 0 advanced or
 * complete, 3 held (says why and when), 4 critical (suggests rollback), 5 lock/drift, 6 target.
 */
import { bakeLeftMs, decide, type Decision } from '../analysis/decide.js';
import { describeAdvance, printAdvanceJudgement, printAdvanceOutcome, type AdvanceOutcome } from '../cli/advance-view.js';
import { annotateReadings } from '../cli/github-actions.js';
import { advanceDocument } from '../cli/json-documents.js';
import { confirmOrDecline } from '../cli/prompter.js';
import { ExitCode, UsageError } from '../errors.js';
import { formatDuration } from '../plan/duration.js';
import { commitChange } from '../rollout/commit.js';
import { historyEvent, notifyEvents } from '../rollout/events.js';
import { withLockedRolloutOrAskRun } from '../rollout/ask-run.js';
import { type Rollout, type StateOptions } from '../rollout/open.js';
import { newRequest } from '../rollout/requests.js';
import { judgedMetrics } from '../rollout/meter.js';
import { reconcile } from '../rollout/reconcile.js';
import { completeRollout, enterStage, keepCounters } from '../state/transitions.js';
import type { RolloutState } from '../state/types.js';
import type { CommandContext, CommandResult } from '../context.js';

export interface AdvanceOptions extends StateOptions {
  yes?: boolean;
  force?: boolean;
  reason?: string;
  dryRun?: boolean;
  adopt?: boolean;
}

/** Advances the rollout one step when the metrics allow it. */
export async function advanceCommand(options: AdvanceOptions, ctx: CommandContext): Promise<CommandResult> {
  if (options.force && !options.reason) throw new UsageError('--force needs --reason', 'say why the hold is overridden, e.g. --force --reason "p95 alert is a known false positive"');
  // A run holding the lock is asked to pass its approval gate; overrides and dry runs are not asked of it.
  const plain = !options.force && !options.dryRun && !options.adopt;
  const ask = async (_rollout: Rollout, by: string) => (plain ? newRequest('approve', by, ctx.clock.now(), { reason: options.reason }) : undefined);
  return withLockedRolloutOrAskRun(options, ctx, 'advance', ask, (rollout) => advanceLocked(rollout, options, ctx));
}

async function advanceLocked(rollout: Rollout, options: AdvanceOptions, ctx: CommandContext): Promise<CommandResult> {
  const { plan } = rollout;
  const stored = await rollout.store.load();
  let state = await reconcile(rollout, stored, options, ctx);
  const now = ctx.clock.now();
  const started = state.stageIndex >= 0 && !state.completed && !state.paused;
  if (started && judgedMetrics(plan).length === 0 && !options.json) ctx.out.error('note: no metric judges this plan: a stage advances once its bake time is over');
  const judgement = started ? await rollout.meter.judge(state) : undefined;
  let { decision, counters } = decide({ plan, state, judgement, now, mode: 'manual' });

  // --force overrides a hold (warning, no data, bake, pause, warm-up), never a critical reading,
  // not even one taken during warm-up.
  if (decision.action === 'hold' && options.force && judgement?.readingsVerdict !== 'critical') {
    const next = plan.stages[state.stageIndex + 1];
    if (next) decision = { action: 'advance', toStage: state.stageIndex + 1, reason: `forced past a hold (${decision.reason}): ${options.reason}` };
  }
  if (options.force && judgement?.readingsVerdict === 'critical' && decision.action === 'hold') {
    const critical = judgement.readings.filter((r) => r.status === 'critical' && !r.dryRun).map((r) => `${r.name} ${r.display} ${r.reason}`);
    decision = { action: 'critical', reason: `${critical.join('; ') || 'a critical reading'} during warm-up; --force never overrides a critical reading` };
  }
  // An unhealthy reading restarts the bake; kept in state so the next advance waits it out again.
  if (started && counters.bakeRestart?.at !== state.bakeRestart?.at && decision.action !== 'advance' && !options.dryRun) {
    const next = keepCounters(state, { ...counters, consecutiveCritical: state.consecutiveCritical, holdingSince: state.holdingSince });
    await rollout.store.save(next, []);
    state = next;
  }
  if (judgement && !options.json) printAdvanceJudgement(ctx.out, plan, judgement);
  annotateReadings(plan, judgement, ctx.env, ctx.out);
  const finish = (outcome: AdvanceOutcome, exitCode: ExitCode): CommandResult => {
    if (options.json) ctx.out.printJson(advanceDocument(plan, outcome, exitCode));
    else printAdvanceOutcome(ctx.out, { plan, planFile: options.plan, outcome });
    return { exitCode };
  };

  switch (decision.action) {
    case 'start':
    case 'advance': {
      const stage = plan.stages[decision.toStage];
      if (!stage) throw new Error(`no stage ${decision.toStage}`);
      const action = options.force && decision.action === 'advance' ? 'force' : decision.action;
      const outcome = { action, stageIndex: decision.toStage, from: state.percent, to: stage.percent, reason: decision.reason, judgement } as const;
      if (options.dryRun) return finish({ ...outcome, dryRun: true }, ExitCode.ok);
      await confirmOrDecline(ctx.prompter, `Advance ${describeAdvance(plan, state.percent, stage.percent, decision.toStage)}?`, options.yes);
      const event = historyEvent(plan, ctx, { action, from: state.percent, to: stage.percent, reason: decision.reason, judgement, verdict: judgement ? undefined : 'skipped' });
      await commitChange(rollout, { from: state.percent, to: stage.percent, next: enterStage(plan, state, decision.toStage, ctx.clock.now()), events: [event] });
      await notifyEvents(plan, [event], ctx);
      return finish(outcome, ExitCode.ok);
    }
    case 'complete': {
      const outcome = { action: 'complete', stageIndex: state.stageIndex, from: state.percent, to: state.percent, reason: decision.reason, judgement } as const;
      if (options.dryRun) return finish({ ...outcome, dryRun: true }, ExitCode.ok);
      const event = historyEvent(plan, ctx, { action: 'complete', from: state.percent, to: state.percent, reason: decision.reason, judgement });
      await commitChange(rollout, { from: state.percent, to: state.percent, next: completeRollout(state), events: [event] });
      await notifyEvents(plan, [event], ctx);
      return finish(outcome, ExitCode.ok);
    }
    case 'done':
      return finish({ action: 'done', stageIndex: state.stageIndex, from: state.percent, to: state.percent, reason: decision.reason }, ExitCode.ok);
    case 'critical':
      return finish({ action: 'critical', stageIndex: state.stageIndex, from: state.percent, to: state.percent, reason: decision.reason, judgement }, ExitCode.critical);
    default:
      return finish({ action: 'hold', stageIndex: state.stageIndex, from: state.percent, to: state.percent, reason: heldReason(decision, rollout, state, ctx), judgement }, ExitCode.held);
  }
}

/** Why an advance is held, and when it could go ahead. */
function heldReason(decision: Decision, rollout: Rollout, state: RolloutState, ctx: CommandContext): string {
  if (decision.action !== 'hold' || decision.retryInMs !== undefined) return decision.reason;
  const left = bakeLeftMs(rollout.plan, state, ctx.clock.now());
  return left > 0 ? `${decision.reason} (bake done in ${formatDuration(left)})` : decision.reason;
}
