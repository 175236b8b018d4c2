/** `rollout hold [plan] --reason R`: pauses the rollout by hand; `run` and `advance` hold until resumed. */
import { holdDocument } from '../cli/json-documents.js';
import { ExitCode, UsageError } from '../errors.js';
import { detectActor } from '../state/actor.js';
import { commitChange } from '../rollout/commit.js';
import { historyEvent, notifyEvents } from '../rollout/events.js';
import { withLockedRolloutOrAskRun } from '../rollout/ask-run.js';
import type { StateOptions } from '../rollout/open.js';
import { reconcile } from '../rollout/reconcile.js';
import { newRequest } from '../rollout/requests.js';
import { pauseRollout } from '../state/transitions.js';
import type { CommandContext, CommandResult } from '../context.js';

export interface HoldOptions extends StateOptions {
  reason?: string;
}

/** Pauses the rollout, recording who and why. */
export async function holdCommand(options: HoldOptions, ctx: CommandContext): Promise<CommandResult> {
  if (!options.reason) throw new UsageError('hold needs --reason', 'say why, e.g. rollout hold --reason "investigating p95 spike"');
  const reason = options.reason;
  const ask = async (_rollout: unknown, by: string) => newRequest('hold', by, ctx.clock.now(), { reason });
  return withLockedRolloutOrAskRun(options, ctx, 'hold', ask, async (rollout) => {
    // The target is the truth: a hold on a drifted rollout is refused like any other change.
    const state = await reconcile(rollout, await rollout.store.load(), {}, ctx);
    const paused = { reason, by: detectActor(ctx.env), at: ctx.clock.now() };
    const event = historyEvent(rollout.plan, ctx, { action: 'hold', from: state.percent, to: state.percent, reason });
    await commitChange(rollout, { from: state.percent, to: state.percent, next: pauseRollout(state, paused), events: [event] });
    await notifyEvents(rollout.plan, [event], ctx);
    if (options.json) ctx.out.printJson(holdDocument(rollout.plan, state, paused));
    else ctx.out.print(`${rollout.plan.name} held at ${state.percent}% by ${paused.by}: ${reason}\nresume with: rollout resume ${options.plan}`);
    return { exitCode: ExitCode.ok };
  });
}
