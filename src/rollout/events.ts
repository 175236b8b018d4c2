/** History events and their notifications: what a rollout records and tells people about a change. */
import type { EventFields } from '../analysis/run-loop.js';
import type { CommandContext } from '../context.js';
import { notifyEvent, type Delivery } from '../notify/notify.js';
import type { Plan } from '../plan/types.js';
import { detectActor } from '../state/actor.js';
import type { HistoryEvent } from '../state/types.js';

/** A history event stamped with now and the actor; metric values come from the judgement. */
export function historyEvent(plan: Plan, ctx: Pick<CommandContext, 'env' | 'clock'>, fields: EventFields): HistoryEvent {
  const metrics: Record<string, number | null> = {};
  for (const r of fields.judgement?.readings ?? []) metrics[r.name] = r.status === 'nodata' ? null : (r.value ?? null);
  return {
    time: new Date(ctx.clock.now()).toISOString(),
    plan: plan.name,
    actor: fields.actor ?? detectActor(ctx.env),
    action: fields.action,
    from: fields.from,
    to: fields.to,
    verdict: fields.verdict ?? fields.judgement?.verdict,
    metrics,
    reason: plan.secrets.redact(fields.reason),
  };
}

/**
 * Sends each event to the plan's receivers that subscribe to it. A failed delivery is a warning on
 * stderr, never an error: the change it reports has already happened.
 */
export async function notifyEvents(plan: Plan, events: HistoryEvent[], ctx: Pick<CommandContext, 'out'>): Promise<Delivery[]> {
  const deliveries = (await Promise.all(events.map((event) => notifyEvent(plan, event)))).flat();
  for (const d of deliveries) if (!d.ok) ctx.out.error(`warning: notification to ${d.type} ${d.to} failed: ${d.error}`);
  return deliveries;
}
