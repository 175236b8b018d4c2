import { describe, expect, it } from 'vitest';
import { judgeMetric, judgePoll, worseVerdict, type MetricValue } from '../../src/analysis/judge.js';
import { planFromYaml, planWithMetrics } from '../helpers/plan.js';

const plan = await planWithMetrics(`
  - { name: error_rate, source: prom, query: e, unit: ratio, warning: "> 1%", critical: "> 5%" }
  - { name: p95, source: prom, query: l, unit: seconds, warning: "> 5s", critical: "> 10s" }
  - { name: success, source: prom, query: s, unit: percent, warning: "< 99%", critical: "< 95%", noData: rollback }
  - { name: vs_stable, source: prom, query: c, baseline: b, critical: "> +20%" }
  - { name: shadow, source: prom, query: x, unit: count, critical: "> 0", dryRun: true }
`);
const metric = (name: string) => {
  const m = plan.metrics.find((x) => x.name === name);
  if (!m) throw new Error(name);
  return m;
};

describe('judgeMetric', () => {
  it.each<[string, MetricValue, string, string]>([
    ['error_rate', { name: 'error_rate', value: 0.004 }, 'ok', '0.4%'],
    ['error_rate', { name: 'error_rate', value: 0.01 }, 'ok', '1%'],
    ['error_rate', { name: 'error_rate', value: 0.02 }, 'warning', '2%'],
    ['error_rate', { name: 'error_rate', value: 0.06 }, 'critical', '6%'],
    ['p95', { name: 'p95', value: 0.4 }, 'ok', '400ms'],
    ['p95', { name: 'p95', value: 7 }, 'warning', '7s'],
    ['p95', { name: 'p95', value: 12.5 }, 'critical', '12.5s'],
    ['success', { name: 'success', value: 99.5 }, 'ok', '99.5%'],
    ['success', { name: 'success', value: 97 }, 'warning', '97%'],
    ['success', { name: 'success', value: 90 }, 'critical', '90%'],
    ['vs_stable', { name: 'vs_stable', value: 1.1, baseline: 1 }, 'ok', '+10% vs baseline'],
    ['vs_stable', { name: 'vs_stable', value: 1.3, baseline: 1 }, 'critical', '+30% vs baseline'],
    ['vs_stable', { name: 'vs_stable', value: 0.5, baseline: 1 }, 'ok', '-50% vs baseline'],
  ])('%s %j → %s', (name, value, status, display) => {
    const reading = judgeMetric(metric(name), value);
    expect(reading.status).toBe(status);
    expect(reading.display).toBe(display);
    expect(reading.reason.length).toBeGreaterThan(0);
  });

  it.each<[MetricValue, RegExp]>([
    [{ name: 'vs_stable', value: 1, baseline: 0 }, /baseline is 0/],
    [{ name: 'vs_stable', value: 1 }, /baseline: no value/],
    [{ name: 'vs_stable', noDataReason: 'connection refused' }, /connection refused/],
  ])('nodata with its reason: %j', (value, reason) => {
    const reading = judgeMetric(metric('vs_stable'), value);
    expect(reading.status).toBe('nodata');
    expect(reading.reason).toMatch(reason);
  });
});

describe('judgePoll', () => {
  const healthy: MetricValue[] = [
    { name: 'error_rate', value: 0.001 },
    { name: 'p95', value: 1 },
    { name: 'success', value: 99.9 },
    { name: 'vs_stable', value: 1, baseline: 1 },
    { name: 'shadow', value: 0 },
  ];
  const withValue = (name: string, v: Partial<MetricValue>) => healthy.map((x) => (x.name === name ? { name, ...v } : x));

  it('is healthy when every metric is ok', () => {
    expect(judgePoll(plan, healthy)).toMatchObject({ verdict: 'healthy', reasons: [] });
  });

  it('holds on a warning, naming the metric', () => {
    const j = judgePoll(plan, withValue('p95', { value: 6 }));
    expect(j.verdict).toBe('hold');
    expect(j.reasons).toEqual(['p95 6s breaches warning > 5s']);
  });

  it('the worst reading wins', () => {
    const values = withValue('p95', { value: 6 }).map((v) => (v.name === 'error_rate' ? { ...v, value: 0.2 } : v));
    const j = judgePoll(plan, values);
    expect(j.verdict).toBe('critical');
    expect(j.reasons).toHaveLength(2);
  });

  it('holds on nodata under noData: hold, and is critical under noData: rollback', () => {
    expect(judgePoll(plan, withValue('p95', { noDataReason: 'timeout' })).verdict).toBe('hold');
    const j = judgePoll(plan, withValue('success', { noDataReason: 'HTTP 503' }));
    expect(j.verdict).toBe('critical');
    expect(j.reasons[0]).toMatch(/success has no data \(HTTP 503\)/);
  });

  it('treats a metric missing from the poll as nodata, never as healthy', () => {
    expect(judgePoll(plan, healthy.filter((v) => v.name !== 'p95')).verdict).toBe('hold');
  });

  it('shows but never acts on a dryRun metric', () => {
    const j = judgePoll(plan, withValue('shadow', { value: 50 }));
    expect(j.verdict).toBe('healthy');
    expect(j.readings.find((r) => r.name === 'shadow')?.status).toBe('critical');
  });

  it('holds during warm-up whatever the readings say', () => {
    const j = judgePoll(plan, withValue('error_rate', { value: 0.5 }), { warmingUp: true });
    expect(j.verdict).toBe('hold');
    expect(j.reasons[0]).toMatch(/warming up/);
    expect(j.readings.find((r) => r.name === 'error_rate')?.status).toBe('critical');
  });

  it('holds below minRequests and when traffic is unknown', async () => {
    const gated = await planFromYaml(`
version: 1
name: gated
stages: [10, 100]
analysis: { minRequests: 100, requests: { source: prom, query: r } }
sources: { prom: { type: prometheus, url: "http://127.0.0.1:9" } }
metrics: [{ name: e, source: prom, query: e, unit: ratio, critical: "> 5%" }]
target: { type: command, set: [echo] }
`);
    const ok = [{ name: 'e', value: 0 }];
    expect(judgePoll(gated, ok, { requests: { name: 'requests', value: 250 } }).verdict).toBe('healthy');
    const low = judgePoll(gated, ok, { requests: { name: 'requests', value: 42 } });
    expect(low.verdict).toBe('hold');
    expect(low.reasons[0]).toMatch(/42 requests < minRequests 100/);
    expect(judgePoll(gated, ok, { requests: { name: 'requests', noDataReason: 'timeout' } }).reasons[0]).toMatch(/traffic unknown \(timeout\)/);
    expect(judgePoll(gated, ok).verdict).toBe('hold');
  });
});

describe('worseVerdict', () => {
  it.each([
    ['healthy', 'hold', 'hold'],
    ['critical', 'hold', 'critical'],
    ['hold', 'healthy', 'hold'],
  ] as const)('%s vs %s → %s', (a, b, w) => {
    expect(worseVerdict(a, b)).toBe(w);
  });
});
