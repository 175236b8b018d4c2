/**
 * Notifications against real local receivers: what Slack and a webhook receive, the webhook's
 * HMAC signature checked the way a receiver would check it, retries, timeouts, a dead receiver,
 * `on:` filtering, and secrets that never leave the process.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { notifyEvent, SIGNATURE_HEADER, type NotifyOptions } from '../../src/notify/notify.js';
import type { Plan } from '../../src/plan/types.js';
import type { HistoryEvent } from '../../src/state/types.js';
import { closedPort, sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';
import { planFromYaml } from '../helpers/plan.js';

const SLACK_TOKEN = 'xoxb-slack-secret-123';
const HOOK_SECRET = 'hmac-shared-secret-456';
const TEAM_TOKEN = 'team-token-789';
/** No real waiting between retries. */
const fast: NotifyOptions = { sleep: async () => undefined, random: () => 0 };

let receiver: TestServer;

function planFor(notifyYaml: string): Promise<Plan> {
  return planFromYaml(
    `
version: 1
name: checkout-v2
stages: [10, 100]
target: { type: command, set: [echo, "{{percent}}"] }
notify:
${notifyYaml}
`,
    { env: { SLACK_TOKEN, HOOK_SECRET, TEAM_TOKEN } },
  );
}

function event(over: Partial<HistoryEvent> = {}): HistoryEvent {
  return {
    time: '2025-03-01T09:30:00.000Z',
    plan: 'checkout-v2',
    actor: 'github:octocat deploy/rollout#42',
    action: 'rollback',
    from: 25,
    to: 0,
    verdict: 'critical',
    metrics: { error_rate: 0.081, p95_latency: null },
    reason: 'error_rate 8.1% breaches critical > 5% (critical 2/2)',
    ...over,
  };
}

beforeAll(async () => {
  receiver = await startTestServer();
});
afterAll(() => receiver.close());
beforeEach(() => {
  receiver.requests.length = 0;
  receiver.handle((_req, res) => sendJson(res, 200, { ok: true }));
});

describe('notifyEvent', () => {
  it('sends Slack an incoming-webhook message a person can read', async () => {
    const plan = await planFor(`  - { type: slack, url: "${receiver.url}/slack" }`);
    const deliveries = await notifyEvent(plan, event(), fast);
    expect(deliveries).toEqual([{ type: 'slack', to: `${receiver.url}/slack`, ok: true }]);
    const [req] = receiver.requests;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/slack');
    expect(req?.headers['content-type']).toBe('application/json');
    const body = JSON.parse(req?.body ?? '') as { text: string };
    expect(Object.keys(body)).toEqual(['text']);
    expect(body.text).toBe(':rewind: rollout *checkout-v2* rollback 25% → 0% by github:octocat deploy/rollout#42: error_rate 8.1% breaches critical > 5% (critical 2/2)');
  });

  it('sends a webhook the event itself as JSON, signed with HMAC-SHA256 of the exact body', async () => {
    const plan = await planFor(`  - { type: webhook, url: "${receiver.url}/hook", secret: "\${HOOK_SECRET}" }`);
    const sent = event({ action: 'advance', from: 10, to: 25, verdict: 'healthy', reason: 'healthy and baked: advance to 25%' });
    expect(await notifyEvent(plan, sent, fast)).toMatchObject([{ ok: true }]);
    const [req] = receiver.requests;
    expect(JSON.parse(req?.body ?? '')).toEqual(sent);
    // What a receiver does: recompute the HMAC over the raw body and compare in constant time.
    const header = String(req?.headers[SIGNATURE_HEADER]);
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    const expected = Buffer.from(`sha256=${createHmac('sha256', HOOK_SECRET).update(req?.body ?? '').digest('hex')}`);
    expect(timingSafeEqual(Buffer.from(header), expected)).toBe(true);
    // A tampered body no longer matches.
    const tampered = createHmac('sha256', HOOK_SECRET).update((req?.body ?? '').replace('25', '26')).digest('hex');
    expect(header).not.toBe(`sha256=${tampered}`);
  });

  it('sends no signature header when the webhook has no secret', async () => {
    const plan = await planFor(`  - { type: webhook, url: "${receiver.url}/hook" }`);
    await notifyEvent(plan, event(), fast);
    expect(receiver.requests[0]?.headers[SIGNATURE_HEADER]).toBeUndefined();
  });

  it('retries a receiver answering 500 and succeeds when it recovers', async () => {
    let calls = 0;
    receiver.handle((_req, res) => (++calls <= 2 ? sendJson(res, 500, { error: 'busy' }) : sendJson(res, 200, {})));
    const plan = await planFor(`  - { type: webhook, url: "${receiver.url}/hook" }`);
    expect(await notifyEvent(plan, event(), fast)).toMatchObject([{ ok: true }]);
    expect(receiver.requests).toHaveLength(3);
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1);
  });

  it('reports a receiver that keeps failing, without throwing', async () => {
    receiver.handle((_req, res) => sendJson(res, 503, {}));
    const plan = await planFor(`  - { type: webhook, url: "${receiver.url}/hook" }`);
    expect(await notifyEvent(plan, event(), fast)).toEqual([{ type: 'webhook', to: `${receiver.url}/hook`, ok: false, error: 'HTTP 503' }]);
    expect(receiver.requests).toHaveLength(3);
  });

  it('reports a receiver that is down, and still delivers to the others', async () => {
    const port = await closedPort();
    const plan = await planFor(`  - { type: slack, url: "http://127.0.0.1:${port}/slack" }
  - { type: webhook, url: "${receiver.url}/hook" }`);
    const deliveries = await notifyEvent(plan, event(), fast);
    expect(deliveries[0]).toMatchObject({ type: 'slack', ok: false });
    expect(deliveries[0]?.error).toMatch(/connect|refused/i);
    expect(deliveries[1]).toMatchObject({ type: 'webhook', ok: true });
  });

  it('gives up on a receiver that does not answer within its timeout', async () => {
    receiver.handle(() => undefined);
    const plan = await planFor(`  - { type: webhook, url: "${receiver.url}/hook", timeout: 200ms }`);
    const started = Date.now();
    const [delivery] = await notifyEvent(plan, event(), { ...fast, retries: 0 });
    expect(delivery).toMatchObject({ ok: false });
    expect(delivery?.error).toMatch(/no complete answer within 200 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('sends each receiver only the events it subscribes to with on:', async () => {
    const plan = await planFor(`  - { type: slack, url: "${receiver.url}/slack", on: [rollback, complete] }
  - { type: webhook, url: "${receiver.url}/hook" }`);
    await notifyEvent(plan, event({ action: 'advance' }), fast);
    expect(receiver.requests.map((r) => r.url)).toEqual(['/hook']);
    receiver.requests.length = 0;
    // Holds are not in the default subscription: a long hold would flood the channel.
    expect(await notifyEvent(plan, event({ action: 'hold' }), fast)).toEqual([]);
    expect(receiver.requests).toHaveLength(0);
    await notifyEvent(plan, event({ action: 'rollback' }), fast);
    expect(receiver.requests.map((r) => r.url).sort()).toEqual(['/hook', '/slack']);
  });

  it('never sends, reports or signs a secret in clear', async () => {
    const port = await closedPort();
    const plan = await planFor(`  - { type: webhook, url: "${receiver.url}/hook?key=\${SLACK_TOKEN}", secret: "\${HOOK_SECRET}", headers: { X-Team: "\${TEAM_TOKEN}" } }
  - { type: slack, url: "http://127.0.0.1:${port}/services/\${SLACK_TOKEN}" }`);
    const leaky = event({ reason: `target said 401 for token ${TEAM_TOKEN} at ${receiver.url}/hook?key=${SLACK_TOKEN}` });
    const deliveries = await notifyEvent(plan, leaky, fast);
    const [req] = receiver.requests;
    expect(req?.body).not.toContain(TEAM_TOKEN);
    expect(req?.body).not.toContain(SLACK_TOKEN);
    expect(req?.body).toContain('token *** at');
    // The header itself is sent (the receiver needs it); only what is printed or sent as text is redacted.
    expect(req?.headers['x-team']).toBe(TEAM_TOKEN);
    expect(String(req?.headers[SIGNATURE_HEADER])).toBe(`sha256=${createHmac('sha256', HOOK_SECRET).update(req?.body ?? '').digest('hex')}`);
    const reported = JSON.stringify(deliveries);
    for (const secret of [SLACK_TOKEN, HOOK_SECRET, TEAM_TOKEN]) expect(reported).not.toContain(secret);
    expect(deliveries[1]).toMatchObject({ ok: false });
  });
});
