/**
 * `rollout run [plan]`: the unattended rollout, for CI jobs and on-call autopilot. It holds the
 * rollout's lock for the whole run (letting go only while it waits for a human's approval),
 * refuses to start on drift unless --adopt, and drives analysis/run-loop.ts with the real
 * rollout (src/rollout/): metrics, target, store, notifications. On SIGINT/SIGTERM the apply in flight is
 * finished and recorded (commitChange never aborts one), so target and state agree at exit 130.
 * Exit 0 end reached, 3 stopped (held, waiting for approval, --timeout), 4 rolled back,
 * 5 lock or drift, 6 target failed, 130 interrupted.
 */
import { runLoop, type RunEffects, type RunEvent, type RunOutcome } from '../analysis/run-loop.js';
import { createGithubActions } from '../cli/github-actions.js';
import { createRunView } from '../cli/run-view.js';
import { ConflictError, ExitCode, OutputClosedError, StateStoreError, UsageError } from '../errors.js';
import { notifyEvent } from '../notify/notify.js';
import { parseDuration } from '../plan/duration.js';
import type { Plan } from '../plan/types.js';
import { lockHolder } from '../state/actor.js';
import type { Lock, RolloutState } from '../state/types.js';
import type { CommandContext, CommandResult } from '../context.js';
import { watchRecovery } from './recovery.js';
import { commitChange } from '../rollout/commit.js';
import { historyEvent } from '../rollout/events.js';
import { judgedMetrics } from '../rollout/meter.js';
import { openRollout, releaseQuietly, type Rollout, type StateOptions } from '../rollout/open.js';
import { rolloutCommand } from '../rollout/next-step.js';
import { reconcile } from '../rollout/reconcile.js';
import { createSampleRecorder, sampleOf } from '../state/samples.js';
import { writeHtmlReport } from './report.js';

/** `rollout run` options (see src/cli/program.ts). */
export interface RunOptions extends StateOptions {
  /** Stop after the stage with this percentage has baked healthy. */
  until?: string;
  /** Stop (exit 3, state kept) after this duration. */
  timeout?: string;
  /** At an approval stage, keep polling until a human runs `rollout advance`. */
  waitApproval?: boolean;
  /** On drift, take the target's percentage as the truth. */
  adopt?: boolean;
  /** Write the HTML report (charts) to this file when the run ends. */
  reportHtml?: string;
}

/** Runs the rollout unattended until it completes, stops or rolls back. */
export async function runCommand(options: RunOptions, ctx: CommandContext): Promise<CommandResult> {
  const timeoutMs = parseTimeout(options.timeout);
  const rollout = await openRollout(options, ctx);
  const { plan } = rollout;
  const github = createGithubActions(plan, ctx.env, ctx.out);
  const view = await createRunView(plan, ctx.out, ctx.clock);
  // Every poll goes to the poll log, for the report's charts and status's trends.
  const samples = createSampleRecorder(rollout.store, (message) => ctx.out.error(message));
  const emit = (event: RunEvent) => {
    view.show(event);
    github?.annotate(event);
    if (event.type === 'poll') samples.record(sampleOf(ctx.clock.now(), event.percent, event.verdict, event.readings));
  };
  try {
    const untilStage = parseUntil(options.until, plan);
    const lock = await holdRunLock(rollout, ctx);
    try {
      return await runLocked(rollout, { ...options, untilStage, timeoutMs }, ctx, emit, lock);
    } finally {
      await releaseQuietly(lock, ctx);
    }
  } catch (err) {
    github?.annotateError(err);
    throw err;
  } finally {
    view.close();
    await samples.flush();
    const html = options.reportHtml !== undefined && (await writeHtmlReport(options.reportHtml, plan, rollout.store, ctx)) ? options.reportHtml : undefined;
    if (github) await github.writeSummary(await rollout.store.history().catch(() => []), html);
    await rollout.close();
  }
}

async function runLocked(
  rollout: Rollout,
  options: RunOptions & { untilStage?: number; timeoutMs?: number },
  ctx: CommandContext,
  emit: (event: RunEvent) => void,
  lock: RunLock,
): Promise<CommandResult> {
  const { plan } = rollout;
  const stored = await rollout.store.load();
  const state = await reconcile(rollout, stored, options, ctx);
  if (judgedMetrics(plan).length === 0) ctx.out.error('note: no metric judges this plan: each stage advances once its bake time is over');
  emit({ type: 'run-start', plan: plan.name, stageIndex: state.stageIndex, percent: state.percent, stages: plan.stages.length, resumed: state.stageIndex >= 0 });
  const effects: RunEffects = {
    poll: (current) => rollout.meter.judge(current),
    guard: (current) => guardOwnState(rollout, current),
    commit: (change) => commitChange(rollout, change),
    record: (events) => rollout.store.append(events),
    async notify(event) {
      for (const delivery of await notifyEvent(plan, event)) {
        if (!delivery.ok) emit({ type: 'notify-failed', action: event.action, receiver: delivery.type, to: delivery.to, error: delivery.error ?? 'failed' });
      }
    },
    emit,
    event: (fields) => historyEvent(plan, ctx, fields),
    async standBy() {
      await lock.letGo();
      return rollout.store.load();
    },
    reclaim: () => lock.reclaim(),
    takeRequests: () => rollout.store.takeRequests(),
    answer: (answer) => rollout.store.answer(answer),
  };
  let outcome: RunOutcome = await runLoop({
    plan,
    state,
    clock: ctx.clock,
    signal: ctx.signal,
    effects,
    options: { untilStage: options.untilStage, timeoutMs: options.timeoutMs, waitApproval: options.waitApproval },
  });
  if (outcome.kind === 'rolled-back') outcome = await verifyRecovery(rollout, outcome, ctx, emit);
  if (outcome.kind === 'interrupted') {
    outcome = { ...outcome, reason: howToGoOn(plan, outcome, options) };
    // Its output closed (`rollout run | head`): where it stopped is said where it can still be read.
    if (ctx.signal.reason instanceof OutputClosedError) ctx.out.error(`run stopped: ${outcome.reason}`);
  }
  emit({ type: 'run-end', outcome: outcome.kind, exitCode: outcome.exitCode, percent: outcome.state.percent, reason: outcome.reason });
  return { exitCode: outcome.exitCode };
}

/**
 * Stops a run whose state another command wrote (an emergency rollback's fence): exit 5, without
 * writing again. An unreachable store is left to the commit path, which holds and retries.
 */
async function guardOwnState(rollout: Rollout, current: RolloutState): Promise<void> {
  const stored = await rollout.store.load().catch((err: unknown) => {
    if (err instanceof StateStoreError) return current;
    throw err;
  });
  if (stored?.version === current.version) return;
  // A fence seen here may be an emergency still under way: say who took over, not how it ended.
  const emergency = stored?.emergency;
  const fence = emergency
    ? `an emergency rollback (${emergency.command} by ${emergency.by}) took this rollout over`
    : stored?.rolledBack
      ? `${rollout.plan.name} was rolled back by another command (now at ${stored.percent}%)`
      : undefined;
  throw new ConflictError(
    `${fence ?? `the state of ${rollout.plan.name} was changed by another command (now at ${stored?.percent ?? 0}%)`}; this run stops and writes nothing more`,
    'see `rollout history`; start again with `rollout run` once it is safe',
  );
}

/** Where an interrupted run left the target, and the two commands that carry on from there. */
function howToGoOn(plan: Plan, outcome: RunOutcome, options: RunOptions): string {
  const { state } = outcome;
  const spelling = { plan: options.plan, stateDir: options.stateDir };
  const where = state.stageIndex >= 0 ? ` (stage ${state.stageIndex + 1}/${plan.stages.length})` : '';
  return (
    `${outcome.reason}: the target is at ${state.percent}%${where}, as state records. ` +
    `Continue with \`${rolloutCommand('run', spelling)}\`, or roll back with \`${rolloutCommand('rollback', spelling)}\``
  );
}

/** SPEC: after a rollback, keep reading for interval × failureLimit and say whether the metrics recovered. */
async function verifyRecovery(rollout: Rollout, outcome: RunOutcome, ctx: CommandContext, emit: (event: RunEvent) => void): Promise<RunOutcome> {
  try {
    const recovery = await watchRecovery(rollout.plan, rollout.store, outcome.state, rollout.meter, ctx);
    const reason = recovery.recovered ? 'metrics recovered after the rollback' : `metrics still critical: ${recovery.judgement.reasons.join('; ')}`;
    emit({ type: 'recovery', recovered: recovery.recovered, reason, watchedMs: recovery.watchedMs });
    return outcome;
  } catch (err) {
    // The rollback is recorded; an interrupt only cuts the watch short.
    if (!ctx.signal.aborted) throw err;
    return { ...outcome, kind: 'interrupted', exitCode: ExitCode.interrupted, reason: `interrupted while watching recovery; ${outcome.reason}` };
  }
}

/** The run's hold on the rollout's lock, which it lets go of while a human is expected to act. */
interface RunLock {
  letGo(): Promise<void>;
  /** Takes the lock back, waiting out a human command that holds it for a moment. */
  reclaim(): Promise<void>;
  release(): Promise<void>;
}

/** How long `reclaim` waits for a human's command to finish with the lock. */
const RECLAIM_ATTEMPTS = 60;
const RECLAIM_PAUSE_MS = 1000;

async function holdRunLock(rollout: Rollout, ctx: CommandContext): Promise<RunLock> {
  const take = () => rollout.store.lock(lockHolder('run', ctx.env, ctx.clock));
  let lock: Lock | undefined = await take();
  const letGo = async () => {
    const held = lock;
    lock = undefined;
    await held?.release();
  };
  return {
    letGo,
    release: letGo,
    async reclaim() {
      for (let attempt = 1; !lock; attempt++) {
        try {
          lock = await take();
        } catch (err) {
          if (!(err instanceof ConflictError) || attempt >= RECLAIM_ATTEMPTS) throw err;
          await ctx.clock.sleep(RECLAIM_PAUSE_MS, ctx.signal);
        }
      }
    },
  };
}

function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`--timeout ${text} is not a duration`, 'use e.g. --timeout 2h or --timeout 90m');
  return ms;
}

/** `--until 50` (or `50%`) → the index of the stage at 50 %. */
function parseUntil(text: string | undefined, plan: Plan): number | undefined {
  if (text === undefined) return undefined;
  const percent = Number(text.trim().replace(/%$/, ''));
  const index = plan.stages.findIndex((s) => s.percent === percent);
  if (index < 0) {
    throw new UsageError(`--until ${text} is not a stage of ${plan.name}`, `use one of the stage percentages: ${plan.stages.map((s) => s.percent).join(', ')}`);
  }
  return index;
}
