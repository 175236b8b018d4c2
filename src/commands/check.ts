/** `rollout check [plan]`: one judgement now, no changes. Exit 0 healthy, 3 hold, 4 critical. */
import { annotateReadings } from '../cli/github-actions.js';
import { checkDocument } from '../cli/json-documents.js';
import { renderCheck } from '../cli/readings-table.js';
import type { CommandContext, CommandResult } from '../context.js';
import { createMeter, verdictExitCode } from '../rollout/meter.js';
import { openStore, peekState, stateDirOf, type StateOptions } from '../rollout/open.js';
import { loadPlanForCommand } from '../rollout/plan.js';

/** Reads and judges every metric once. */
export async function checkCommand(options: StateOptions, ctx: CommandContext): Promise<CommandResult> {
  const plan = await loadPlanForCommand(options.plan, ctx);
  const store = await openStore(plan, options, ctx);
  const state = await peekState(store, ctx).finally(() => store.close());
  const judgement = await createMeter(plan, stateDirOf(plan, options), ctx).judge(state);
  // Readings cut short by Ctrl-C are not a verdict: the command ends as interrupted (exit 130).
  ctx.signal.throwIfAborted();
  annotateReadings(plan, judgement, ctx.env, ctx.out);
  const exitCode = verdictExitCode(judgement);
  if (options.json) {
    ctx.out.printJson(checkDocument(plan, judgement, exitCode, ctx.clock.now()));
    return { exitCode };
  }
  ctx.out.print(renderCheck(plan, judgement, ctx.out.color));
  return { exitCode };
}
