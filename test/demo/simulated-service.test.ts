import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { renderDemoPlan } from '../../src/demo/demo-plan.js';
import { BAD_FROM_PERCENT, startSimulatedService, type ServiceSummary, type SimulatedService } from '../../src/demo/simulated-service.js';
import { planFromYaml } from '../helpers/plan.js';

// An independent parser of the text format, so the page is checked against more than our own reader.
interface Family {
  name: string;
  type: string;
  metrics: Array<{ labels?: Record<string, string>; value?: string }>;
}
const parseExposition = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

let service: SimulatedService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

async function setFlag(url: string, percentage: unknown): Promise<Response> {
  return fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ percentage }) });
}

/** Requests served per variant so far, read from /metrics. */
async function served(s: SimulatedService): Promise<Record<'canary' | 'stable', { ok: number; errors: number }>> {
  const families = parseExposition((await get(s.metricsUrl)).body);
  const requests = families.find((f) => f.name === 'http_requests_total');
  const count = (variant: string, status: string) => Number(requests?.metrics.find((m) => m.labels?.variant === variant && m.labels.status === status)?.value);
  return {
    canary: { ok: count('canary', '200'), errors: count('canary', '500') },
    stable: { ok: count('stable', '200'), errors: count('stable', '500') },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function summary(s: SimulatedService): Promise<ServiceSummary> {
  return JSON.parse((await get(`${s.summaryUrl}?window=800ms`)).body) as ServiceSummary;
}

describe('simulated service', () => {
  it('serves a flag API that reads back what was set, and refuses bad values', async () => {
    service = await startSimulatedService({ tickMs: 20 });
    expect(JSON.parse((await get(service.flagUrl)).body)).toEqual({ percentage: 0 });
    const put = await setFlag(service.flagUrl, 25);
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ percentage: 25 });
    expect(JSON.parse((await get(service.flagUrl)).body)).toEqual({ percentage: 25 });
    expect(service.percentage).toBe(25);
    for (const bad of [101, -1, 2.5, '10', null]) expect((await setFlag(service.flagUrl, bad)).status).toBe(400);
    expect((await fetch(service.flagUrl, { method: 'DELETE' })).status).toBe(405);
    expect((await get(`${service.url}/nope`)).status).toBe(404);
    expect(service.percentage).toBe(25);
  });

  it('publishes counters and a histogram per variant in the Prometheus text format', async () => {
    service = await startSimulatedService({ tickMs: 20 });
    await setFlag(service.flagUrl, 50);
    await sleep(150);
    const page = await get(service.metricsUrl);
    expect(page.status).toBe(200);
    const families = parseExposition(page.body);
    expect(families.find((f) => f.name === 'http_requests_total')).toMatchObject({ type: 'COUNTER' });
    expect(families.find((f) => f.name === 'http_request_duration_seconds')?.type).toBe('HISTOGRAM');
    // That parser drops the labels of histogram series, so the canary's are read off the page.
    const sample = (series: string) => Number(new RegExp(`^${series.replace(/[{}+.]/g, '\\$&')} (\\S+)$`, 'm').exec(page.body)?.[1]);
    const count = sample('http_request_duration_seconds_count{variant="canary"}');
    expect(count).toBeGreaterThan(0);
    expect(sample('http_request_duration_seconds_bucket{variant="canary",le="+Inf"}')).toBe(count);
    expect(sample('http_request_duration_seconds_bucket{variant="canary",le="0.05"}')).toBeLessThan(count);
    // Every series exists from the start: a 500 counter at 0 reads as 0, not as "no data".
    expect(page.body).toMatch(/http_requests_total\{variant="canary",status="500"\} \d+/);
  });

  it('splits the synthetic traffic by the flag percentage', async () => {
    service = await startSimulatedService({ tickMs: 10, requestsPerSecond: 10_000 });
    const before = await served(service);
    expect(before.canary.ok + before.canary.errors).toBe(0); // 0 %: no canary traffic at all
    await setFlag(service.flagUrl, 25);
    const from = await served(service);
    await sleep(300);
    const to = await served(service);
    const canary = to.canary.ok + to.canary.errors - (from.canary.ok + from.canary.errors);
    const stable = to.stable.ok + to.stable.errors - (from.stable.ok + from.stable.errors);
    expect(canary + stable).toBeGreaterThan(1000);
    expect(canary / (canary + stable)).toBeCloseTo(0.25, 2);
  });

  it('summarises the canary over a window: a healthy one is well inside the runbook limits', async () => {
    service = await startSimulatedService({ scenario: 'healthy', tickMs: 20 });
    await setFlag(service.flagUrl, 10);
    await sleep(900);
    const s = await summary(service);
    expect(s).toMatchObject({ percentage: 10, scenario: 'healthy', windowMs: 800 });
    expect(s.requests).toBeGreaterThan(100);
    expect(s.errorRate).toBeLessThan(0.01);
    expect(s.p95Ms).toBeGreaterThan(50);
    expect(s.p95Ms).toBeLessThan(1000);
    expect(s.stable.requests).toBeGreaterThan(s.requests);
    expect((await get(`${service.summaryUrl}?window=soon`)).status).toBe(400);
  });

  it('reports no rate without canary traffic instead of a made-up 0', async () => {
    service = await startSimulatedService({ tickMs: 20 });
    await sleep(100);
    expect(await summary(service)).toMatchObject({ requests: 0, errorRate: null, p95Ms: null, avgMs: null });
  });

  it('bad: the canary turns critical only from 25 %', async () => {
    service = await startSimulatedService({ scenario: 'bad', tickMs: 20 });
    await setFlag(service.flagUrl, 10);
    await sleep(900);
    expect((await summary(service)).errorRate).toBeLessThan(0.01);
    await setFlag(service.flagUrl, BAD_FROM_PERCENT);
    await sleep(900);
    expect((await summary(service)).errorRate).toBeGreaterThan(0.05);
  });

  it('flaky: each burst of errors shows in one scrape interval, never in two in a row', async () => {
    // The demo's own tick and spacing: a blip is one tick of errors, every 3 s.
    service = await startSimulatedService({ scenario: 'flaky', tickMs: 100, blipEveryMs: 3000 });
    await setFlag(service.flagUrl, 50);
    // Scrapes one second apart, as the demo plan's exposition source does: increase() between two,
    // until three blips were made (a loaded machine stretches both the ticks and the sleeps).
    let previous = await served(service);
    const blipsBefore = service.blips;
    const intervals: { errors: number; requests: number }[] = [];
    for (let i = 0; i < 30 && service.blips - blipsBefore < 3; i++) {
      await sleep(1000);
      const now = await served(service);
      const errors = now.canary.errors - previous.canary.errors;
      intervals.push({ errors, requests: errors + now.canary.ok - previous.canary.ok });
      previous = now;
    }
    // A blip tick fails all its canary requests (250 at 50 %); healthy ticks fail 0.2 %, half a request each.
    const withBlip = intervals.map((interval) => interval.errors >= 125);
    expect(withBlip.filter(Boolean).length).toBeGreaterThanOrEqual(2);
    expect(withBlip.some((blip, i) => blip && withBlip[i + 1])).toBe(false);
    // Read as the demo's error rate, a blip's interval stands far above the healthy ones.
    const rates = intervals.map((interval) => interval.errors / interval.requests);
    const healthiest = Math.max(...rates.filter((_, i) => !withBlip[i]));
    for (const rate of rates.filter((_, i) => withBlip[i])) expect(rate).toBeGreaterThan(10 * healthiest);
  }, 45_000);

  it('reset() switches the scenario and puts the flag back to 0', async () => {
    service = await startSimulatedService({ scenario: 'healthy' });
    await setFlag(service.flagUrl, 100);
    service.reset('bad');
    expect(service.scenario).toBe('bad');
    expect(JSON.parse((await get(service.flagUrl)).body)).toEqual({ percentage: 0 });
  });

  it('close() stops the server', async () => {
    const s = await startSimulatedService();
    await s.close();
    await expect(fetch(s.flagUrl)).rejects.toThrow();
  });
});

describe('demo plan', () => {
  it('loads through the real loader, with the service as target and sources', async () => {
    const urls = { flagUrl: 'http://127.0.0.1:1/api/flags/demo', metricsUrl: 'http://127.0.0.1:1/metrics', summaryUrl: 'http://127.0.0.1:1/api/summary' };
    const plan = await planFromYaml(renderDemoPlan('bad', urls));
    expect(plan.name).toBe('demo-bad');
    expect(plan.stages.map((s) => s.percent)).toEqual([10, 25, 50, 100]);
    expect(plan.analysis).toMatchObject({ intervalMs: 1000, failureLimit: 2 });
    expect(plan.target).toMatchObject({ type: 'http', set: { url: urls.flagUrl }, get: { url: urls.flagUrl, path: 'percentage' } });
    expect(Object.values(plan.sources).map((s) => s.type).sort()).toEqual(['exposition', 'json']);
  });
});
