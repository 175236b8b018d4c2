/**
 * `rollout rollback [plan]`: applies `rollback.to` (or `--to N`) after confirmation; it only ever
 * lowers exposure. `--emergency`: 0 %, no prompt, no metric reads, takes over a held lock, runs
 * the target's emergency actions and notifies — and still works when metrics, the lock or state
 * are broken (src/rollout/emergency.ts).
 */
import { confirmOrDecline } from '../cli/prompter.js';
import { ExitCode, TargetError, UsageError } from '../errors.js';
import { parseDuration } from '../plan/duration.js';
import type { Plan, TargetConfig } from '../plan/types.js';
import { commitChange } from '../rollout/commit.js';
import { emergencyRollback } from '../rollout/emergency.js';
import { historyEvent, notifyEvents } from '../rollout/events.js';
import { withLockedRolloutOrAskRun } from '../rollout/ask-run.js';
import { buildTarget, type Rollout } from '../rollout/open.js';
import { newRequest } from '../rollout/requests.js';
import type { Delivery } from '../notify/notify.js';
import type { RolloutState, RunRequest } from '../state/types.js';
import { planForEmergency, type NamedRolloutOptions } from '../rollout/recorded-plan.js';
import { refuseFenced } from '../rollout/reconcile.js';
import { notStarted, rollbackDestination, rolledBack } from '../state/transitions.js';
import { detectDrift } from '../targets/drift.js';
import type { CommandContext, CommandResult } from '../context.js';
import { watchRecovery } from './recovery.js';

export interface RollbackOptions extends NamedRolloutOptions {
  emergency?: boolean;
  to?: string;
  yes?: boolean;
  reason?: string;
  verify?: boolean;
  /** Emergency: the deadline of each target call (default 10s). */
  callTimeout?: string;
}

/** Rolls the rollout back. */
export async function rollbackCommand(options: RollbackOptions, ctx: CommandContext): Promise<CommandResult> {
  if (options.emergency) return emergencyCommand(options, ctx);
  if (options.name) throw new UsageError('--name works with --emergency only', 'a planned rollback needs the plan: `rollout rollback path/to/plan.yaml`');
  const ask = (rollout: Rollout, by: string) => rollbackRequest(rollout, options, by, ctx);
  return withLockedRolloutOrAskRun(options, ctx, 'rollback', ask, (rollout) => plannedRollback(rollout, options, ctx));
}

/** The rollback asked of a run holding the lock, after the same checks and confirmation as a rollback by hand. */
async function rollbackRequest(rollout: Rollout, options: RollbackOptions, by: string, ctx: CommandContext): Promise<RunRequest> {
  const { plan } = rollout;
  const from = (await rollout.store.load())?.percent ?? 0;
  const to = parseTo(options.to, plan, from);
  await confirmOrDecline(ctx.prompter, `${plan.name} is being run by another process; ask it to roll back from ${from}%?`, options.yes);
  return newRequest('rollback', by, ctx.clock.now(), { reason: options.reason ?? 'rolled back by hand', ...(to === undefined ? {} : { to }) });
}

async function plannedRollback(rollout: Rollout, options: RollbackOptions, ctx: CommandContext): Promise<CommandResult> {
  const { plan } = rollout;
  const stored = await rollout.store.load();
  refuseFenced(stored, ctx);
  const state = stored ?? notStarted(plan);
  // Rolling back is always allowed on drift: the target's real percentage is where we come from.
  const drift = await detectDrift(rollout.target, state.percent, ctx.signal);
  const from = drift.targetPercent ?? state.percent;
  const to = parseTo(options.to, plan, from);
  const destination = rollbackDestination(plan, to ?? plan.rollback.to, from);
  if (drift.drift) ctx.out.error(`warning: drift: ${drift.message}; rolling back from the target's ${from}%`);
  // Only a target read back at 0 is known to be there: one that cannot be read is set to 0 anyway.
  if (state.percent === 0 && drift.targetPercent === 0) {
    const reason = `${plan.name} is already at 0%: nothing to roll back`;
    if (!options.json) ctx.out.print(reason);
    return finishRollback(rollout, state, { from: 0, to: 0, reason, deliveries: [] }, options, ctx);
  }
  await confirmOrDecline(ctx.prompter, `Roll ${plan.name} back: ${from}% → ${destination.percent}%?`, options.yes);
  const reason = options.reason ?? 'rolled back by hand';
  const event = historyEvent(plan, ctx, { action: 'rollback', from, to: destination.percent, reason });
  const next = rolledBack(plan, state, destination, ctx.clock.now());
  // A target that drifted, or that cannot be read, is written even when state says it is there already.
  const alwaysApply = drift.drift || drift.targetPercent === undefined;
  await commitChange(rollout, { from, to: destination.percent, next, events: [event], alwaysApply, towardsSafety: true });
  const deliveries = await notifyEvents(plan, [event], ctx);
  if (!options.json) ctx.out.print(`${ctx.out.color.yellow('rolled back')} ${plan.name}: ${from}% → ${destination.percent}%`);
  return finishRollback(rollout, next, { from, to: destination.percent, reason, deliveries }, options, ctx);
}

/** The recovery check (--verify) from `state`, then the JSON document (at `state`'s stage) or the recovery line. */
async function finishRollback(
  rollout: Rollout,
  state: RolloutState,
  done: { from: number; to: number; reason: string; deliveries: Delivery[] },
  options: RollbackOptions,
  ctx: CommandContext,
): Promise<CommandResult> {
  const { plan } = rollout;
  let recovered: boolean | undefined;
  if (options.verify) {
    ctx.out.error(`verifying recovery: ${plan.analysis.failureLimit} polls, ${plan.analysis.intervalMs / 1000}s apart…`);
    recovered = (await watchRecovery(plan, rollout.store, state, rollout.meter, ctx)).recovered;
  }
  if (options.json) ctx.out.printJson((await import('../cli/json-documents.js')).rollbackDocument(plan, { ...done, toStage: state.stageIndex, recovered }));
  else if (recovered !== undefined) ctx.out.print(recovered ? 'metrics recovered' : ctx.out.color.red('metrics NOT recovered: investigate now'));
  return { exitCode: ExitCode.ok };
}

const DEFAULT_CALL_MS = 10_000;

/**
 * Under the emergency, each attempt of an HTTP call gets a third of the call's deadline, so a
 * flag API that never answers is retried at least three times within it instead of once.
 */
function quickAttempts(config: TargetConfig, callMs: number): TargetConfig {
  const timeoutMs = (config as TargetConfig & { timeoutMs?: unknown }).timeoutMs;
  if ((config.type !== 'http' && config.type !== 'unleash') || typeof timeoutMs !== 'number') return config;
  return { ...config, timeoutMs: Math.min(timeoutMs, Math.max(1000, Math.floor(callMs / 3))) } as TargetConfig;
}
const STORE_STEP_MS = 5_000;

async function emergencyCommand(options: RollbackOptions, ctx: CommandContext): Promise<CommandResult> {
  const callMs = options.callTimeout === undefined ? DEFAULT_CALL_MS : parseDuration(options.callTimeout);
  if (callMs === undefined || callMs <= 0) throw new UsageError(`--call-timeout ${options.callTimeout} is not a duration`, 'use e.g. --call-timeout 5s');
  const { plan, openStore } = await planForEmergency(options, ctx, STORE_STEP_MS);
  const target = await buildTarget(quickAttempts(plan.target, callMs), ctx);
  const outcome = await emergencyRollback(plan, target, openStore, ctx, { reason: options.reason, deadlines: { callMs, storeMs: STORE_STEP_MS } });
  for (const p of outcome.problems) ctx.out.error(`warning: ${p}`);
  if (!outcome.ok) {
    const failed = outcome.targetAtZero
      ? new TargetError(`emergency rollback of ${plan.name}: the target is at 0%, but its emergency actions failed: ${outcome.failure}`, "run the plan's target.emergency actions by hand now; then `rollout rollback --emergency` again to record it")
      : new TargetError(`emergency rollback of ${plan.name} could not set the target to 0%: ${outcome.failure}`, 'set it by hand now; then run `rollout rollback --emergency` again to record it');
    if (!options.json) throw failed;
    // One document, with what did and did not happen; the error goes to stderr as the entry point would print it.
    ctx.out.printJson((await import('../cli/json-documents.js')).emergencyRollbackDocument(plan, outcome));
    ctx.out.error(`error: ${failed.message}\nhint: ${failed.hint}`);
    return { exitCode: failed.exitCode };
  }
  // The documents module is loaded only for --json: the emergency's start-up is bench-measured.
  if (options.json) ctx.out.printJson((await import('../cli/json-documents.js')).emergencyRollbackDocument(plan, outcome));
  const taken = outcome.tookOverFrom;
  const tookOver = taken ? `; took the lock from ${taken.actor} (pid ${taken.pid} on ${taken.host}, ${taken.command})` : '';
  const confirmed = outcome.readBack === undefined ? '; the target cannot be read back to confirm' : '; the target reads 0%';
  const from = outcome.from === undefined ? '(state unreadable)' : `${outcome.from}%`;
  if (!options.json) ctx.out.print(`${ctx.out.color.red.bold('EMERGENCY ROLLBACK')} ${plan.name}: ${from} → 0%${tookOver}${confirmed}`);
  return { exitCode: ExitCode.ok };
}

/**
 * `--to`: 0, `previous`, or a stage's percentage below `from`; a rollback never raises exposure,
 * so anything else changes nothing and exits 2.
 */
function parseTo(text: string | undefined, plan: Plan, from: number): number | 'previous' | undefined {
  if (text === undefined) return undefined;
  if (text === 'previous') return 'previous';
  const n = Number(text.trim().replace(/%$/, ''));
  const below = plan.stages.filter((s) => s.percent < from).map((s) => s.percent);
  const allowed = `use --to 0, --to previous${below.length ? `, or a stage below ${from}%: ${below.join(', ')}` : ''}`;
  if (text.trim() === '' || !Number.isInteger(n) || n < 0 || n > 100) throw new UsageError(`--to ${text} is not a percentage`, allowed);
  if (n === 0) return 0;
  if (!plan.stages.some((s) => s.percent === n)) throw new UsageError(`--to ${text} is not a stage of ${plan.name}; nothing changed`, allowed);
  if (n >= from) throw new UsageError(`--to ${text} would not lower exposure (the target is at ${from}%); nothing changed`, allowed);
  return n;
}
