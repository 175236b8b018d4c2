/** `rollout check [plan]`: one judgement now, no changes. Exit 0 healthy, 3 hold, 4 critical. */
import { inWarmup } from '../analysis/decide.js';
import type { Judgement } from '../analysis/judge.js';
import { annotateReadings } from '../cli/github-actions.js';
import { paintVerdict, renderReadings } from '../cli/readings-table.js';
import { ExitCode, StateCorruptError } from '../errors.js';
import type { Plan } from '../plan/types.js';
import { createStore } from '../state/create-store.js';
import type { RolloutState } from '../state/types.js';
import type { CommandContext, CommandResult } from './context.js';
import { loadPlanForCommand } from './load.js';
import { measureAndJudge, stateDirOf, type StateOptions } from './session.js';

/** The exit code a verdict maps to (check, status --exit-code). */
export function verdictExitCode(judgement: Judgement): 0 | 3 | 4 {
  return judgement.verdict === 'healthy' ? ExitCode.ok : judgement.verdict === 'hold' ? ExitCode.held : ExitCode.critical;
}

/** Reads state without taking the lock; unreadable state only costs the warm-up information. */
export async function peekState(plan: Plan, options: StateOptions, ctx: CommandContext): Promise<{ state?: RolloutState; warning?: string }> {
  const store = await createStore({ backend: plan.state.backend, url: options.state ?? plan.state.url, dir: stateDirOf(plan, options), plan: plan.name, env: ctx.env });
  try {
    return { state: await store.load() };
  } catch (err) {
    if (err instanceof StateCorruptError) return { warning: `${err.message} (${err.hint})` };
    throw err;
  } finally {
    await store.close();
  }
}

/** Reads and judges every metric once. */
export async function checkCommand(options: StateOptions, ctx: CommandContext): Promise<CommandResult> {
  const plan = await loadPlanForCommand(options.plan, ctx);
  const { state, warning } = await peekState(plan, options, ctx);
  if (warning) ctx.out.error(`warning: ${warning}`);
  const judgement = await measureAndJudge(plan, state, stateDirOf(plan, options), ctx);
  annotateReadings(plan, judgement, ctx.env, ctx.out);
  const exitCode = verdictExitCode(judgement);
  if (options.json) {
    ctx.out.printJson({ plan: plan.name, verdict: judgement.verdict, reasons: judgement.reasons, inWarmup: inWarmup(plan, state, ctx.clock.now()), readings: judgement.readings, exitCode });
    return { exitCode };
  }
  if (plan.metrics.length > 0) ctx.out.print(renderReadings(plan, judgement, ctx.out.color));
  else ctx.out.print('this plan has no metrics to judge');
  ctx.out.print(`verdict: ${paintVerdict(judgement.verdict, ctx.out.color)}${judgement.reasons.length ? ` — ${judgement.reasons.join('; ')}` : ''}`);
  return { exitCode };
}
