/** `rollout history [plan]`: the events, newest last (table or --json). */
import Table from 'cli-table3';
import { ExitCode } from '../errors.js';
import type { CommandContext, CommandResult } from './context.js';
import { readHistory, type StateOptions } from '../rollout/open.js';

/** Prints the rollout's history. */
export async function historyCommand(options: StateOptions, ctx: CommandContext): Promise<CommandResult> {
  const { plan, events } = await readHistory(options, ctx);
  if (options.json) {
    ctx.out.printJson(events);
    return { exitCode: ExitCode.ok };
  }
  if (events.length === 0) {
    ctx.out.print(`${plan.name} has no history yet; start it with \`rollout advance\``);
    return { exitCode: ExitCode.ok };
  }
  const table = new Table({ head: ['time', 'action', 'from → to', 'actor', 'verdict', 'reason'], style: { head: [], border: [] }, wordWrap: true });
  for (const e of events) table.push([e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), e.action, `${e.from}% → ${e.to}%`, e.actor, e.verdict ?? '', e.reason]);
  ctx.out.print(table.toString());
  return { exitCode: ExitCode.ok };
}
