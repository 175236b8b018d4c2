/** The `compare:` block of a metric: what it builds into, and each rule as a broken plan. */
import { describe, expect, it } from 'vitest';
import { PlanError } from '../../src/errors.js';
import { parsePlan } from '../../src/plan/load-plan.js';
import { Secrets } from '../../src/plan/secrets.js';

const counts = (variant: string, range = '[30s]') => `{ events: 'sum(increase(req{v="${variant}",s="5xx"}${range}))', total: 'sum(increase(req{v="${variant}"}${range}))' }`;

function plan(compare: string, extra = ''): string {
  return `version: 1
name: compared
stages: [10, 100]
analysis: { interval: 30s }
sources:
  prom: { type: prometheus, url: "http://127.0.0.1:9" }
  page: { type: exposition, url: "http://127.0.0.1:9/metrics" }
metrics:
  - name: errors
    source: prom
${extra}    compare:
${compare
  .trim()
  .split('\n')
  .map((line) => `      ${line}`)
  .join('\n')}
target: { type: command, set: [echo, "{{percent}}"] }
`;
}

const VALID = `canary: ${counts('canary')}\nbaseline: ${counts('stable')}\neffect: "+50%"`;

async function problemsOf(text: string) {
  try {
    await parsePlan(text, 'plan.yaml', { env: {}, secrets: new Secrets() });
  } catch (err) {
    if (err instanceof PlanError) return err.problems;
    throw err;
  }
  return [];
}

describe('compare:', () => {
  it('builds the four queries, the effect and the default false-alarm budget of 1%', async () => {
    const loaded = await parsePlan(plan(VALID), '/tmp/plan.yaml', { env: {}, secrets: new Secrets() });
    expect(loaded.metrics[0]).toMatchObject({
      name: 'errors',
      unit: 'ratio',
      noData: 'hold',
      compare: { canary: { events: 'sum(increase(req{v="canary",s="5xx"}[30s]))' }, baseline: { total: 'sum(increase(req{v="stable"}[30s]))' }, effect: 0.5, falseAlarm: 0.01 },
    });
    const dropping = await parsePlan(plan(VALID.replace('"+50%"', '"-20%"\nfalseAlarm: 0.5%')), '/tmp/plan.yaml', { env: {}, secrets: new Secrets() });
    expect(dropping.metrics[0]?.compare).toMatchObject({ effect: -0.2, falseAlarm: 0.005 });
  });

  // [rule, broken plan, line, message pattern]
  it.each<[string, string, number, RegExp]>([
    ['a limit beside it', plan(VALID, '    critical: "> 5%"\n'), 11, /`critical` does not apply to a comparison metric/],
    ['a query beside it', plan(VALID, '    query: up\n'), 11, /`query` does not apply to a comparison metric/],
    ['an effect without a sign', plan(VALID.replace('"+50%"', '"50%"')), 14, /expected a signed percentage/],
    ['an effect of nothing', plan(VALID.replace('"+50%"', '"+0%"')), 14, /cannot be told apart from no change/],
    ['a false-alarm budget too large to mean anything', plan(`${VALID}\nfalseAlarm: 30%`), 15, /falseAlarm 30% is out of range/],
    ['a Prometheus range longer than the interval', plan(VALID.replace(counts('stable'), counts('stable', '[5m]'))), 13, /range \[5m\] is longer than the poll interval \(30s\): events would be counted more than once/],
    ['a Prometheus running total', plan(VALID.replace(counts('canary'), `{ events: 'sum(req{s="5xx"})', total: 'sum(increase(req[30s]))' }`)), 12, /no range: a running total would be counted again/],
    ['a count its source type cannot read', plan(VALID.replace(/\[30s\]/g, '').replace('sum(increase(req{v="canary"}))', 'sum(increase(req{v="canary"})')).replace('    source: prom', '    source: page'), 12, /cannot parse expression/],
    ['an exposition range longer than the interval', plan(VALID.replace(counts('stable'), counts('stable', '[5m]'))).replace('    source: prom', '    source: page'), 13, /range \[5m\] is longer than the poll interval \(30s\)/],
    ['an exposition expression without increase()', plan(VALID.replace(/\[30s\]/g, '').replace(counts('canary', ''), `{ events: 'sum(req{s="5xx"})', total: 'sum(increase(req))' }`)).replace('    source: prom', '    source: page'), 12, /no increase\(\): a running total/],
  ])('%s', async (_rule, text, line, pattern) => {
    const problems = await problemsOf(text);
    expect(problems.map((p) => p.message).join('\n')).toMatch(pattern);
    const problem = problems.find((p) => pattern.test(p.message));
    expect(problem?.line).toBe(line);
    expect(problem?.hint).toBeTruthy();
  });

  it('names an unknown source once, not once per count', async () => {
    const problems = await problemsOf(plan(VALID).replace('    source: prom', '    source: grafana'));
    expect(problems.filter((p) => /unknown source "grafana"/.test(p.message))).toHaveLength(1);
  });
});
