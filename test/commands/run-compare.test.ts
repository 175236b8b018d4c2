/**
 * `rollout run` with comparison metrics (`compare:`) against the demo's simulated service, end to
 * end: the built CLI scrapes the service's /metrics page, adds up each poll's counts in its state,
 * and lets the sequential test decide. Two metrics: 5xx answers, and latency as the share of
 * requests slower than 250 ms (from the histogram's buckets). A canary with twice the baseline's
 * error rate, and one 25 % slower, are rolled back from their first stage; one that answers as
 * the baseline does is walked to 100 %.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulatedService, type SimulatedService } from '../../src/demo/simulated-service.js';
import { runCli } from '../helpers/cli.js';

const counts = (variant: string, errorsOnly: boolean) => `sum(increase(http_requests_total{variant="${variant}"${errorsOnly ? ',status="500"' : ''}}))`;
const histogram = (variant: string) => `sum(increase(http_request_duration_seconds_count{variant="${variant}"}))`;
const slower = (variant: string) => `${histogram(variant)} - sum(increase(http_request_duration_seconds_bucket{variant="${variant}",le="0.25"}))`;

function planYaml(service: SimulatedService): string {
  return `version: 1
name: compared
stages: [{ percent: 10, bake: 1s }, { percent: 50, bake: 1s }, { percent: 100, bake: 1s }]
analysis: { interval: 1s, failureLimit: 2, noData: hold, maxHold: 60s }
sources:
  scrape: { type: exposition, url: "${service.metricsUrl}", timeout: 2s }
metrics:
  - name: errors
    source: scrape
    compare:
      canary: { events: '${counts('canary', true)}', total: '${counts('canary', false)}' }
      baseline: { events: '${counts('stable', true)}', total: '${counts('stable', false)}' }
      effect: "+50%"
      falseAlarm: 1%
  - name: slow_requests
    source: scrape
    compare:
      canary: { events: '${slower('canary')}', total: '${histogram('canary')}' }
      baseline: { events: '${slower('stable')}', total: '${histogram('stable')}' }
      effect: "+50%"
target:
  type: http
  set: { method: PUT, url: "${service.flagUrl}", body: { percentage: "{{percent}}" } }
  get: { url: "${service.flagUrl}", path: percentage }
`;
}

type Line = { kind: string; [key: string]: unknown };

async function run(service: SimulatedService): Promise<{ code: number | null; lines: Line[]; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-compare-'));
  writeFileSync(join(dir, 'rollout.yaml'), planYaml(service));
  const r = await runCli(['run', '--json', '--timeout', '75s'], { cwd: dir, timeoutMs: 90_000 });
  expect(r.stderr).toBe('');
  return { code: r.code, lines: r.stdout.trim().split('\n').map((line) => JSON.parse(line) as Line), dir };
}

const events = (lines: Line[]) => lines.filter((l) => l.kind === 'event') as unknown as Array<{ action: string; from: number; to: number; reason: string }>;

let service: SimulatedService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

describe('rollout run with a comparison metric, against the simulated service', () => {
  it('rolls back a canary with twice the baseline error rate (2 % vs 1 %) from 10 %, saying how sure it is', async () => {
    service = await startSimulatedService({ requestsPerSecond: 20_000, variants: { canary: { errorRate: 0.02, medianMs: 80 }, stable: { errorRate: 0.01, medianMs: 80 } } });
    const { code, lines } = await run(service);
    expect(code).toBe(4);
    const rollback = events(lines).find((e) => e.action === 'rollback');
    expect(rollback).toMatchObject({ from: 10, to: 0 });
    expect(rollback?.reason).toMatch(/errors canary 2(\.\d+)?% vs baseline 1(\.\d+)?%, \d+(\.\d)?% sure it is worse \(needs 99%\)/);
    expect(service.percentage).toBe(0);
    // Before deciding, the polls said how sure the test was, undecided.
    const polls = lines.filter((l) => l.kind === 'poll') as unknown as Array<{ readings: Array<{ status: string; comparison?: { canaryTotal: number } }> }>;
    const totals = polls.map((p) => p.readings[0]?.comparison?.canaryTotal ?? 0);
    // The counts grow poll after poll: the run kept them in its state.
    expect(Math.max(...totals)).toBeGreaterThan(totals.find((t) => t > 0) ?? Infinity);
  }, 90_000);

  it('rolls back a canary whose latency is 25 % higher, from the histogram buckets', async () => {
    service = await startSimulatedService({ requestsPerSecond: 20_000, variants: { canary: { errorRate: 0.01, medianMs: 100 }, stable: { errorRate: 0.01, medianMs: 80 } } });
    const { code, lines } = await run(service);
    expect(code).toBe(4);
    const rollback = events(lines).find((e) => e.action === 'rollback');
    expect(rollback).toMatchObject({ from: 10, to: 0 });
    expect(rollback?.reason).toMatch(/slow_requests canary \d+(\.\d+)?% vs baseline 1(\.\d+)?%, \d+(\.\d)?% sure it is worse \(needs 99%\)/);
    // The error rates are the same: that metric is undecided or ok, never the cause.
    expect(rollback?.reason).not.toMatch(/errors canary [^;]*% sure it is worse \(needs/);
  }, 90_000);

  it('walks a canary as good as its baseline (1 % vs 1 %) to 100 %', async () => {
    service = await startSimulatedService({ requestsPerSecond: 20_000, variants: { canary: { errorRate: 0.01, medianMs: 80 }, stable: { errorRate: 0.01, medianMs: 80 } } });
    const { code, lines, dir } = await run(service);
    expect(code).toBe(0);
    expect(events(lines).filter((e) => e.action !== 'hold').map((e) => [e.action, e.from, e.to])).toEqual([
      ['start', 0, 10],
      ['advance', 10, 50],
      ['advance', 50, 100],
      ['complete', 100, 100],
    ]);
    const okReasons = lines.filter((l) => l.kind === 'poll').flatMap((l) => (l.readings as Array<{ status: string; reason: string }>).filter((r) => r.status === 'ok').map((r) => r.reason));
    expect(okReasons.some((reason) => /sure it is not \+50% or worse \(needs 99%\)/.test(reason))).toBe(true);
    expect(service.percentage).toBe(100);
    // The state kept the last stage's evidence only: a stage starts its counts afresh.
    const state = JSON.parse(readFileSync(join(dir, '.rollout', 'compared.json'), 'utf8')) as { evidence?: { percent: number } };
    expect(state.evidence?.percent ?? 100).toBe(100);
  }, 90_000);
});
