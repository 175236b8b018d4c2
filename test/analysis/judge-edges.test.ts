/** The judge's edges, each with the exact reading it must give (kills what a looser test lets through). */
import { describe, expect, it } from 'vitest';
import { judgeMetric, judgePoll } from '../../src/analysis/judge.js';
import { planFromYaml } from '../helpers/plan.js';

const plan = await planFromYaml(`
version: 1
name: edges
stages: [10, 50, 100]
analysis: { interval: 10s, bake: 10m, failureLimit: 2, minRequests: 100, requests: { source: prom, query: q } }
sources: { prom: { type: prometheus, url: "http://127.0.0.1:9" } }
metrics:
  - { name: rate, source: prom, query: r, unit: ratio, warning: "> 1%", critical: "> 5%" }
  - { name: rel, source: prom, query: c, baseline: b, critical: "> +20%" }
  - { name: shadow, source: prom, query: s, unit: ratio, critical: "> 5%", dryRun: true }
target: { type: command, set: [echo] }
`);
const [rate, rel] = plan.metrics as [(typeof plan.metrics)[0], (typeof plan.metrics)[0]];
const enough = { name: 'requests', value: 100 };

describe('judgeMetric edges', () => {
  it('no value without a reason reads "no value"', () => {
    expect(judgeMetric(rate, { name: 'rate' })).toEqual({ name: 'rate', dryRun: false, status: 'nodata', display: 'no data', reason: 'no value' });
  });
  it('a non-finite value or baseline is no data, named', () => {
    expect(judgeMetric(rate, { name: 'rate', value: Number.POSITIVE_INFINITY }).reason).toBe('not a finite number (Infinity)');
    expect(judgeMetric(rel, { name: 'rel', value: 1, baseline: Number.NaN }).reason).toBe('not a finite number (1 vs baseline NaN)');
    expect(judgeMetric(rel, { name: 'rel', value: 1, baseline: 2 }).status).toBe('ok');
  });
  it('a negative value or baseline is no data, saying which', () => {
    expect(judgeMetric(rate, { name: 'rate', value: -0.5 })).toMatchObject({ status: 'nodata', value: -0.5, reason: 'negative value -0.5 cannot be a ratio: check the query' });
    expect(judgeMetric(rel, { name: 'rel', value: 1, baseline: -2 })).toMatchObject({ status: 'nodata', baseline: -2, reason: 'negative baseline -2 cannot be a ratio: check the query' });
    expect(judgeMetric(rate, { name: 'rate', value: 0 }).status).toBe('ok');
    expect(judgeMetric(rel, { name: 'rel', value: 1, baseline: 0 }).reason).toMatch(/baseline is 0/);
  });
  it('a baseline metric without a baseline value is no data; relative values are shown signed', () => {
    expect(judgeMetric(rel, { name: 'rel', value: 1 })).toEqual({ name: 'rel', dryRun: false, status: 'nodata', value: 1, display: 'no data', reason: 'baseline: no value' });
    expect(judgeMetric(rel, { name: 'rel', value: 1.5, baseline: 1 })).toMatchObject({ status: 'critical', relative: 0.5, display: '+50% vs baseline', reason: 'breaches critical > +20%' });
    expect(judgeMetric(rel, { name: 'rel', value: 1.1, baseline: 1 })).toMatchObject({ status: 'ok', display: '+10% vs baseline' });
  });
  it('warning and critical readings name their limit', () => {
    expect(judgeMetric(rate, { name: 'rate', value: 0.02 })).toMatchObject({ status: 'warning', display: '2%', reason: 'breaches warning > 1%' });
    expect(judgeMetric(rate, { name: 'rate', value: 0.06 })).toMatchObject({ status: 'critical', reason: 'breaches critical > 5%' });
  });
});

describe('judgeMetric: what is never judged as a number', () => {
  it('a value that comes with a no-data reason (a stale or partial read) is no data, never judged', () => {
    expect(judgeMetric(rate, { name: 'rate', value: 0.001, noDataReason: 'stale: last sample 10m old' })).toEqual({ name: 'rate', dryRun: false, status: 'nodata', display: 'no data', reason: 'stale: last sample 10m old' });
  });
  it('every no-data reading displays "no data"', () => {
    for (const reading of [
      judgeMetric(rate, { name: 'rate', value: Number.NaN }),
      judgeMetric(rate, { name: 'rate', value: -1 }),
      judgeMetric(rel, { name: 'rel', value: 1, baseline: 0 }),
    ]) expect(reading).toMatchObject({ status: 'nodata', display: 'no data' });
  });
  it('the relative difference is divided by the baseline, whatever its size', () => {
    expect(judgeMetric(rel, { name: 'rel', value: 0.03, baseline: 0.02 }).relative).toBeCloseTo(0.5, 10);
    expect(judgeMetric(rel, { name: 'rel', value: 30, baseline: 20 })).toMatchObject({ status: 'critical', display: '+50% vs baseline' });
  });
  it('a metric no source returned a value for reads "not read"', () => {
    const judgement = judgePoll(plan, [enough]);
    expect(judgement.readings[0]).toMatchObject({ name: 'rate', status: 'nodata', reason: 'not read' });
    expect(judgement.reasons[0]).toBe('rate has no data (not read)');
  });
});

describe('judgePoll edges', () => {
  it('a dry-run metric never changes the verdict, whatever it reads', () => {
    const j = judgePoll(plan, [{ name: 'rate', value: 0 }, { name: 'rel', value: 1, baseline: 1 }, { name: 'shadow', value: 0.9 }], { requests: enough });
    expect(j).toMatchObject({ verdict: 'healthy', reasons: [], readingsVerdict: 'healthy', warmingUp: false });
    expect(j.readings[2]).toMatchObject({ status: 'critical', dryRun: true });
  });
  it('the traffic floor: exactly minRequests judges; one less holds; unknown holds with its reason', () => {
    const ok = [{ name: 'rate', value: 0 }, { name: 'rel', value: 1, baseline: 1 }];
    expect(judgePoll(plan, ok, { requests: enough }).verdict).toBe('healthy');
    expect(judgePoll(plan, ok, { requests: { name: 'requests', value: 99 } }).reasons).toEqual(['traffic too low to judge: 99 requests < minRequests 100']);
    expect(judgePoll(plan, ok, {}).reasons).toEqual(['traffic unknown (not read): cannot judge below minRequests 100']);
    expect(judgePoll(plan, ok, { requests: { name: 'requests', noDataReason: 'HTTP 500' } }).reasons).toEqual(['traffic unknown (HTTP 500): cannot judge below minRequests 100']);
  });
  it('reasons name each metric that is not healthy, the worst verdict wins, and warm-up keeps what the readings say', () => {
    const values = [{ name: 'rate', value: 0.02 }, { name: 'rel', value: 2, baseline: 1 }];
    const j = judgePoll(plan, values, { requests: enough });
    expect(j.verdict).toBe('critical');
    expect(j.reasons).toEqual(['rate 2% breaches warning > 1%', 'rel +100% vs baseline breaches critical > +20%']);
    const warm = judgePoll(plan, values, { requests: enough, warmingUp: true });
    expect(warm).toMatchObject({ verdict: 'hold', readingsVerdict: 'critical', warmingUp: true, reasons: ['warming up: readings are not judged yet'] });
    expect(judgePoll(plan, [{ name: 'rate', value: 0.02 }, { name: 'rel', value: 1, baseline: 1 }], { requests: enough }).verdict).toBe('hold');
  });
});
