/**
 * After a rollback, keep reading the metrics for `interval × failureLimit` and say whether they
 * recovered (no critical reading at the end). "not recovered" is an event of its own and is notified.
 */
import type { Judgement } from '../analysis/judge.js';
import type { Plan } from '../plan/types.js';
import type { RolloutState, StateStore } from '../state/types.js';
import type { CommandContext } from '../context.js';
import { historyEvent, notifyEvents } from '../rollout/events.js';
import type { Meter } from '../rollout/meter.js';

/** What the watch saw. */
export interface RecoveryOutcome {
  recovered: boolean;
  judgement: Judgement;
  /** How long the watch lasted. */
  watchedMs: number;
}

/** Polls `failureLimit` times, `interval` apart, records recovered / not-recovered and notifies. */
export async function watchRecovery(plan: Plan, store: StateStore, state: RolloutState, meter: Meter, ctx: CommandContext): Promise<RecoveryOutcome> {
  const started = ctx.clock.monotonic();
  let judgement: Judgement | undefined;
  for (let poll = 0; poll < plan.analysis.failureLimit; poll++) {
    await ctx.clock.sleep(plan.analysis.intervalMs, ctx.signal);
    judgement = await meter.judge(undefined);
  }
  const last = judgement ?? (await meter.judge(undefined));
  const recovered = last.verdict !== 'critical';
  const reason = recovered ? 'metrics recovered after the rollback' : `metrics still critical after the rollback: ${last.reasons.join('; ')}`;
  const event = historyEvent(plan, ctx, { action: recovered ? 'recovered' : 'not-recovered', from: state.percent, to: state.percent, reason, judgement: last });
  await store.append([event]);
  await notifyEvents(plan, [event], ctx);
  return { recovered, judgement: last, watchedMs: ctx.clock.monotonic() - started };
}
