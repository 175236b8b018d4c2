/** `rollout history [plan]`: the events, newest last (table or --json). */
import { renderHistory } from '../cli/history-table.js';
import { historyDocument } from '../cli/json-documents.js';
import { ExitCode } from '../errors.js';
import type { CommandContext, CommandResult } from '../context.js';
import { readHistory, type StateOptions } from '../rollout/open.js';

/** Prints the rollout's history. */
export async function historyCommand(options: StateOptions, ctx: CommandContext): Promise<CommandResult> {
  const { plan, events } = await readHistory(options, ctx);
  if (options.json) ctx.out.printJson(historyDocument(plan, events));
  else ctx.out.print(renderHistory(plan.name, events, ctx.out.utc));
  return { exitCode: ExitCode.ok };
}
