/**
 * Notifications (SPEC: notify): `slack` incoming webhooks and plain `webhook`s receive the events
 * they subscribe to. Delivery has a timeout and retries; a failure is reported to the caller and
 * never thrown, so a dead chat server cannot block or reverse a rollback.
 */
import { createHmac } from 'node:crypto';
import { describeUrl } from '../net/http.js';
import type { NotifyConfig, Plan } from '../plan/types.js';
import { describeMove, type HistoryEvent } from '../state/types.js';
import { sendWithRetries, type RetryOptions } from '../net/retry.js';

/** The header carrying a webhook payload's HMAC-SHA256 signature: `sha256=<hex>`. */
export const SIGNATURE_HEADER = 'x-rollout-signature';

/** The outcome of delivering one event to one receiver. */
export interface Delivery {
  type: NotifyConfig['type'];
  /** The receiver's URL without query string or credentials. */
  to: string;
  ok: boolean;
  error?: string;
}

export type NotifyOptions = Pick<RetryOptions, 'sleep' | 'random'> & { retries?: number };

const ICON: Partial<Record<HistoryEvent['action'], string>> = {
  start: ':rocket:',
  advance: ':arrow_up:',
  complete: ':white_check_mark:',
  hold: ':pause_button:',
  rollback: ':rewind:',
  'emergency-rollback': ':rotating_light:',
  'not-recovered': ':fire:',
  recovered: ':green_heart:',
  drift: ':warning:',
  force: ':warning:',
};

/** The Slack message for an event: one line a person reads in a channel. */
export function slackPayload(event: HistoryEvent): { text: string } {
  return { text: `${ICON[event.action] ?? ':information_source:'} rollout *${event.plan}* ${event.action} ${describeMove(event)} by ${event.actor}: ${event.reason}` };
}

/** Signs a webhook body with the shared secret. */
export function signPayload(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Sends `event` to every receiver of the plan that subscribes to its action, in parallel. */
export async function notifyEvent(plan: Plan, event: HistoryEvent, options: NotifyOptions = {}): Promise<Delivery[]> {
  const receivers = plan.notify.filter((n) => n.on.includes(event.action));
  return Promise.all(receivers.map((receiver) => deliver(plan, receiver, event, options)));
}

async function deliver(plan: Plan, receiver: NotifyConfig, event: HistoryEvent, options: NotifyOptions): Promise<Delivery> {
  // Slack webhook URLs carry their secret in the path, which describeUrl keeps.
  const to = plan.secrets.redact(describeUrl(receiver.url));
  const body = plan.secrets.redact(JSON.stringify(receiver.type === 'slack' ? slackPayload(event) : event));
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'rollout', ...receiver.headers };
  if (receiver.type === 'webhook' && receiver.secret) headers[SIGNATURE_HEADER] = signPayload(body, receiver.secret);
  try {
    const res = await sendWithRetries(
      { url: receiver.url, method: 'POST', headers, body, timeoutMs: receiver.timeoutMs, maxBytes: 64 * 1024 },
      { retries: options.retries ?? 2, sleep: options.sleep, random: options.random },
    );
    if (res.status >= 200 && res.status < 300) return { type: receiver.type, to, ok: true };
    return { type: receiver.type, to, ok: false, error: `HTTP ${res.status}` };
  } catch (err) {
    return { type: receiver.type, to, ok: false, error: plan.secrets.redact(err instanceof Error ? err.message : String(err)) };
  }
}
