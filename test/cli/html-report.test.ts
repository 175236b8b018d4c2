/** The HTML report as a pure function of (plan, history, poll log): what it shows, in which units, and its size. */
import { describe, expect, it } from 'vitest';
import { outcomeOf, renderHtmlReport } from '../../src/cli/html-report.js';
import { KEEP_FULL, KEEP_OLDER, type MetricSample } from '../../src/state/samples.js';
import type { HistoryEvent } from '../../src/state/types.js';
import { planWithMetrics } from '../helpers/plan.js';

const plan = await planWithMetrics(`
  - { name: error_rate, source: prom, query: "sum(rate(errors[1m]))", unit: ratio, warning: "> 1%", critical: "> 5%" }
  - { name: p95_latency, source: prom, query: "p95", unit: seconds, warning: "> 5s", critical: "> 10s" }
  - { name: latency_vs_stable, source: prom, query: "canary", baseline: "stable", unit: milliseconds, warning: "> +20%", critical: "> +50%" }
`);

const T0 = Date.UTC(2024, 4, 1, 12);
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function event(seconds: number, action: HistoryEvent['action'], from: number, to: number, fields: Partial<HistoryEvent> = {}): HistoryEvent {
  return { time: at(seconds), plan: 'judged', actor: 'alice', action, from, to, verdict: 'healthy', metrics: {}, reason: `${action} reason`, ...fields };
}

const sample = (seconds: number, percent: number, errorRate: number | null, fields: Partial<MetricSample> = {}): MetricSample => ({
  time: at(seconds),
  percent,
  verdict: 'healthy',
  metrics: { error_rate: errorRate, p95_latency: 0.25, latency_vs_stable: 120 },
  baselines: { latency_vs_stable: 100 },
  ...fields,
});

/** A rollout that went to 50 % and was rolled back on error_rate. */
const rolledBack: HistoryEvent[] = [
  event(0, 'start', 0, 10, { verdict: 'skipped' }),
  event(60, 'advance', 10, 50, { metrics: { error_rate: 0.002, p95_latency: 0.25, latency_vs_stable: 120 } }),
  event(90, 'hold', 50, 50, { verdict: 'critical', metrics: { error_rate: 0.0734, p95_latency: 0.3, latency_vs_stable: 130 }, reason: 'error_rate 7.34% breaches critical > 5% (critical 1/2)' }),
  event(100, 'rollback', 50, 0, { verdict: 'critical', actor: 'ci:deploy#7', metrics: { error_rate: 0.0812, p95_latency: 0.31, latency_vs_stable: 131 }, reason: 'error_rate 8.12% breaches critical > 5% (critical 2/2)' }),
];
const polls = [sample(10, 10, 0.002), sample(20, 10, null), sample(30, 10, 0.0152), sample(70, 50, 0.002), sample(90, 50, 0.0734, { verdict: 'critical' }), sample(100, 50, 0.0812, { verdict: 'critical' })];

describe('renderHtmlReport', () => {
  const page = renderHtmlReport(plan, rolledBack, polls);

  it('has a header with the plan, the outcome, who and when', () => {
    expect(page).toContain('<h1>judged <span class="badge">rolled back to 0%</span></h1>');
    expect(page).toContain('<header class="outcome-rolled-back">');
    expect(page).toContain('<dt>Who</dt><dd>alice, ci:deploy#7</dd>');
    expect(page).toContain('<dt>Started</dt><dd>2024-05-01T12:00:00.000Z</dd>');
    expect(page).toContain('<dt>Duration</dt><dd>1m 40s</dd>');
    expect(page).toContain('<dt>Readings</dt><dd>6 polls kept by `rollout run`</dd>');
  });

  it('draws one chart per metric, with its limits, and a marker per decision with its exact text', () => {
    for (const name of ['error_rate', 'p95_latency', 'latency_vs_stable']) expect(page).toContain(`<section class="metric" data-metric="${name}">`);
    expect(page.match(/<svg class="chart"/g)).toHaveLength(4);
    expect(page).toMatch(/<path class="limit limit-critical" d="M70 [\d.]+H1076"\/>/);
    expect(page).toContain('critical &gt; 5%</text>');
    // Far above 310 ms readings, the latency limits are named rather than squashing the line.
    expect(page).toContain('warning &gt; 5s, critical &gt; 10s: above the chart');
    // Relative limits follow the baseline.
    expect(page).toContain('<path class="baseline"');
    expect(page.match(/<g class="marker marker-rollback"/g)).toHaveLength(4);
    expect(page).toContain(
      '<title>rollback 50% → 0% (critical) at 12:01:40 UTC by ci:deploy#7: error_rate 8.12% breaches critical &gt; 5% (critical 2/2) [error_rate 8.12%, p95_latency 310ms, latency_vs_stable 131ms]</title>',
    );
  });

  it('gives readings in their units in the hover text and on the axes, never raw fractions', () => {
    expect(page).toContain('<title>12:00:30 UTC\nerror_rate 1.52% (warning) at 10%</title>');
    expect(page).toContain('error_rate no data at 10%');
    expect(page).toContain('>300ms</text>');
    expect(page).toMatch(/>8%<\/text>/);
    expect(page).not.toMatch(/0\.0152|0\.0812/);
    expect(page).toContain('baseline 100ms');
  });

  it('is self-contained: nothing to fetch, nothing to run', () => {
    expect(page).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(page).not.toMatch(/<script|<link|<img|\bsrc=|\bhref=|url\(/i);
  });

  it('escapes what came from history', () => {
    const html = renderHtmlReport(plan, [event(0, 'start', 0, 10, { reason: '<script>alert(1)</script>', actor: '"bob" <b@x>' })], []);
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;bob&quot; &lt;b@x&gt;');
  });

  it('charts the readings recorded in history when there is no poll log', () => {
    const html = renderHtmlReport(plan, rolledBack, []);
    expect(html).toContain('from history events only (no poll log)');
    expect(html).toContain('error_rate 7.34% (critical) at 50%');
    expect(html).toMatch(/<path class="series" d="M[\d. ]+L/);
  });

  it('renders a rollout that has not started', () => {
    const html = renderHtmlReport(plan, [], []);
    expect(html).toContain('<span class="badge">not started</span>');
    expect(html).toContain('No stage has been applied yet.');
  });

  it('stays under 300 KB for 500 events and a full poll log', () => {
    // A long rollout: holds and resumes, an advance every 100 events, one rollback and restart.
    const events = [event(0, 'start', 0, 10)];
    let percent = 10;
    for (let i = 1; i < 500; i++) {
      const metrics = { error_rate: 0.0152, p95_latency: 0.25, latency_vs_stable: 121 };
      const reason = `error_rate 1.52% breaches warning > 1% (poll ${i}); p95_latency 250ms within limits`;
      const [action, to]: [HistoryEvent['action'], number] =
        i === 250 ? ['rollback', 0] : i === 251 ? ['start', 10] : i % 100 === 0 ? ['advance', Math.min(100, percent * 2)] : [i % 2 ? 'hold' : 'resume', percent];
      events.push(event(i * 60, action, percent, to, { actor: `user-${i % 7}`, reason, metrics }));
      percent = to;
    }
    const count = KEEP_FULL + KEEP_OLDER;
    const log = Array.from({ length: count }, (_, i) => sample((i * 500 * 60) / count, 10, 0.001 + (i % 50) / 1000, i < KEEP_OLDER ? { polls: 4 } : {}));
    const html = renderHtmlReport(plan, events, log);
    // Every event is told on the percent chart, those drawn on top of each other in one marker.
    const percentChart = html.slice(html.indexOf('<section class="percent">'), html.indexOf('<section class="metric"'));
    const told = [...percentChart.matchAll(/data-count="(\d+)"><title>([^<]*)<\/title>/g)];
    expect(told.reduce((n, m) => n + Number(m[1]), 0)).toBe(500);
    expect(told.reduce((n, m) => n + (m[2] ?? '').split('\n').length, 0)).toBe(500);
    expect(Buffer.byteLength(html)).toBeLessThan(300 * 1024);
  });
});

describe('outcomeOf', () => {
  it.each([
    [[], 'not-started', 'not started'],
    [[event(0, 'start', 0, 10)], 'in-progress', 'at 10%, not finished'],
    [[event(0, 'start', 0, 100), event(5, 'complete', 100, 100)], 'complete', 'completed at 100%'],
    [[event(0, 'start', 0, 10), event(5, 'emergency-rollback', 10, 0), event(6, 'recovered', 0, 0)], 'rolled-back', 'emergency rollback to 0%'],
    [[event(0, 'start', 0, 10), event(5, 'rollback', 10, 0), event(9, 'start', 0, 10)], 'in-progress', 'at 10%, not finished'],
  ])('%#: %s', (events, kind, text) => {
    expect(outcomeOf(events as HistoryEvent[])).toEqual({ kind, text });
  });
});
