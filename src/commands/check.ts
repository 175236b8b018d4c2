/** `rollout check [plan]`: one judgement now, no changes. Exit 0 healthy, 3 hold, 4 critical. */
import { inWarmup } from '../analysis/decide.js';
import { annotateReadings } from '../cli/github-actions.js';
import { paintVerdict, renderReadings } from '../cli/readings-table.js';
import type { CommandContext, CommandResult } from './context.js';
import { loadPlanForCommand } from './load.js';
import { createMeter, openStore, peekState, stateDirOf, verdictExitCode, type StateOptions } from './session.js';

/** Reads and judges every metric once. */
export async function checkCommand(options: StateOptions, ctx: CommandContext): Promise<CommandResult> {
  const plan = await loadPlanForCommand(options.plan, ctx);
  const store = await openStore(plan, options, ctx);
  const state = await peekState(store, ctx).finally(() => store.close());
  const judgement = await createMeter(plan, stateDirOf(plan, options), ctx).judge(state);
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
