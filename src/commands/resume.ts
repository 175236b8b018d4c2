/** `rollout resume [plan]`: lifts a hold made by hand. */
import { resumeDocument } from '../cli/json-documents.js';
import { ExitCode } from '../errors.js';
import { commitChange } from '../rollout/commit.js';
import { historyEvent, notifyEvents } from '../rollout/events.js';
import { withLockedRolloutOrAskRun } from '../rollout/ask-run.js';
import type { StateOptions } from '../rollout/open.js';
import { reconcile } from '../rollout/reconcile.js';
import { newRequest } from '../rollout/requests.js';
import { resumeRollout } from '../state/transitions.js';
import type { CommandContext, CommandResult } from '../context.js';

/** Resumes a paused rollout (a no-op, exit 0, when it is not paused). */
export async function resumeCommand(options: StateOptions, ctx: CommandContext): Promise<CommandResult> {
  const ask = async (_rollout: unknown, by: string) => newRequest('resume', by, ctx.clock.now());
  return withLockedRolloutOrAskRun(options, ctx, 'resume', ask, async (rollout) => {
    const state = await reconcile(rollout, await rollout.store.load(), {}, ctx);
    if (!state.paused) {
      if (options.json) ctx.out.printJson(resumeDocument(rollout.plan, state, false));
      else ctx.out.print(`${rollout.plan.name} is not paused; nothing to resume`);
      return { exitCode: ExitCode.ok };
    }
    const event = historyEvent(rollout.plan, ctx, { action: 'resume', from: state.percent, to: state.percent, reason: `lifts the hold by ${state.paused.by}: ${state.paused.reason}` });
    await commitChange(rollout, { from: state.percent, to: state.percent, next: resumeRollout(state), events: [event] });
    await notifyEvents(rollout.plan, [event], ctx);
    if (options.json) ctx.out.printJson(resumeDocument(rollout.plan, state, true));
    else ctx.out.print(`${rollout.plan.name} resumed at ${state.percent}%`);
    return { exitCode: ExitCode.ok };
  });
}
