/** Limits in the metric's unit: out of reach is an error, implausible a warning, mixed units named as such. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLimit } from '../../src/analysis/limits.js';
import { PlanError, type PlanProblem } from '../../src/errors.js';
import { checkLimitPair, checkLimits, type LimitFinding } from '../../src/plan/limit-checks.js';
import { parsePlan } from '../../src/plan/load-plan.js';
import { Secrets } from '../../src/plan/secrets.js';
import type { Limit, MetricUnit } from '../../src/plan/types.js';

const limit = (text: string, unit: MetricUnit): Limit => {
  const parsed = parseLimit(text, unit, false);
  if ('message' in parsed) throw new Error(parsed.message);
  return parsed;
};

/** The findings for one critical limit alone. */
const findings = (critical: string, unit: MetricUnit): LimitFinding[] => checkLimits({ critical }, unit, false).findings;
const severity = (critical: string, unit: MetricUnit) => findings(critical, unit).map((f) => f.severity).join(',') || 'ok';

describe('a limit a reading of its unit can never reach is an error', () => {
  it.each<[string, MetricUnit, string]>([
    ['> 1', 'ratio', 'warning'], // in range; `>` at the top can never fire, so it is worth a word
    ['>= 1', 'ratio', 'ok'],
    ['> 0.999', 'ratio', 'ok'],
    ['> 1.0001', 'ratio', 'error'],
    ['> 5', 'ratio', 'error'],
    ['< 5', 'ratio', 'error'],
    ['> 100', 'percent', 'warning'],
    ['>= 100', 'percent', 'ok'],
    ['> 99.5', 'percent', 'ok'],
    ['> 100.01', 'percent', 'error'],
    ['> 0', 'ratio', 'ok'],
    ['> 0', 'count', 'ok'],
    ['> -0.01', 'ratio', 'error'],
    ['> -1', 'percent', 'error'],
    ['< -1', 'seconds', 'error'],
    ['> -5', 'milliseconds', 'error'],
    ['> -1', 'count', 'error'],
    ['> 1000000', 'count', 'ok'],
  ])('%j on %s: %s', (text, unit, expected) => {
    expect(severity(text, unit)).toBe(expected);
  });

  it('an error drops the limit, a warning keeps it', () => {
    expect(checkLimits({ critical: '> 5' }, 'ratio', false).critical).toBeUndefined();
    expect(checkLimits({ critical: '> 500' }, 'seconds', false).critical).toMatchObject({ value: 500 });
  });

  it('says which number was meant when the other unit fits', () => {
    const [ratio] = findings('> 5', 'ratio');
    expect(ratio?.message).toMatch(/"> 5" is above 1, the most a metric in ratio reads/);
    expect(ratio?.hint).toMatch(/did you mean "> 0\.05" \(5%\)\?/);
    expect(findings('> 2.5', 'ratio')[0]?.hint).toMatch(/did you mean "> 0\.025" \(2\.5%\)\?/);
    // Beyond 100 it is no percentage either.
    expect(findings('> 250', 'ratio')[0]?.hint).not.toMatch(/did you mean/);
    expect(findings('> -1', 'seconds')[0]?.message).toMatch(/below 0/);
    // Written as a percentage on purpose: just too high, no other unit meant.
    for (const unit of ['ratio', 'percent'] as const) {
      const [over] = findings('> 150%', unit);
      expect(over?.severity).toBe('error');
      expect(over?.hint).not.toMatch(/did you mean/);
    }
  });

  it('relative limits (against a baseline) are changes, not readings: no range applies', () => {
    expect(checkLimits({ warning: '> +150%', critical: '> +300%' }, 'ratio', true).findings).toEqual([]);
    expect(checkLimits({ critical: '< -10%' }, 'ratio', true).findings).toEqual([]);
  });
});

describe('an implausible limit is a warning', () => {
  it.each<[string, MetricUnit, string]>([
    ['> 99', 'seconds', 'ok'],
    ['> 100', 'seconds', 'warning'],
    ['> 500', 'seconds', 'warning'],
    ['> 500s', 'seconds', 'warning'],
    ['> 500ms', 'seconds', 'ok'],
    ['> 2m', 'seconds', 'ok'], // minutes, written as such: meant
    ['> 1h', 'seconds', 'ok'],
    ['> 1', 'milliseconds', 'ok'],
    ['> 0.999', 'milliseconds', 'warning'],
    ['> 0.5', 'milliseconds', 'warning'],
    ['> 0.5s', 'milliseconds', 'ok'],
    ['>= 0', 'ratio', 'warning'], // every reading breaches it
    ['<= 100', 'percent', 'warning'],
    ['< 0', 'count', 'warning'], // no reading is below 0
  ])('%j on %s: %s', (text, unit, expected) => {
    expect(severity(text, unit)).toBe(expected);
  });

  it('names the number in the neighbouring unit', () => {
    expect(findings('> 500', 'seconds')[0]?.hint).toMatch(/did you mean "> 0\.5" \(500ms\)\?/);
    expect(findings('> 0.5', 'milliseconds')[0]?.hint).toMatch(/did you mean "> 500"/);
  });
});

describe('warning and critical in the wrong order', () => {
  it.each<[string, string, MetricUnit, RegExp | undefined]>([
    ['> 1%', '> 5%', 'ratio', undefined],
    ['> 1%', '>= 1%', 'ratio', undefined],
    ['< 99%', '< 95%', 'ratio', undefined],
    ['> 5%', '> 1%', 'ratio', /swap the two values/],
    ['< 95%', '< 99%', 'ratio', /swap the two values/],
    ['> 5', '> 1', 'percent', /swap the two values/],
    ['> 10', '> 2', 'count', /swap the two values/],
    ['> 3s', '> 1s', 'seconds', /swap the two values/],
    // Mixed units, not swapped values: the hint names the number meant.
    ['> 2', '> 0.05', 'percent', /units look mixed up.*critical "> 0\.05" is 0\.05%; did you mean "> 5" \(5%\)\?/],
    ['> 300', '> 1', 'milliseconds', /units look mixed up.*critical "> 1" is 1ms; did you mean "> 1000" \(1s\)\?/],
    ['> 300', '> 1', 'seconds', /units look mixed up.*warning "> 300" is 300s; did you mean "> 0\.3" \(300ms\)\?/],
    ['> 0.5', '> 0.05', 'ratio', /units look mixed up.*warning "> 0\.5" is 50%; did you mean "> 0\.005" \(0\.5%\)\?/],
  ])('warning %s, critical %s in %s', (warning, critical, unit, hint) => {
    const pair = checkLimitPair(limit(warning, unit), limit(critical, unit), unit);
    if (!hint) return expect(pair).toBeUndefined();
    expect(pair?.message).toMatch(/less strict than warning/);
    expect(pair?.hint).toMatch(hint);
    // Only one hint: a swap or a unit, never both.
    expect(/swap/.test(pair!.hint) && /units/.test(pair!.hint)).toBe(false);
  });

  it('limits pointing different ways are named as such', () => {
    expect(checkLimitPair(limit('> 1%', 'ratio'), limit('< 5%', 'ratio'), 'ratio')?.message).toMatch(/point different ways/);
  });

  it('a limit out of range is reported once, without a pair hint on top', () => {
    const { findings: found } = checkLimits({ warning: '> 0.02', critical: '> 5' }, 'ratio', false);
    expect(found.map((f) => [f.field, f.severity])).toEqual([['critical', 'error']]);
  });
});

describe('in a plan file', () => {
  const VALID = readFileSync(new URL('../fixtures/plans/valid.yaml', import.meta.url), 'utf8');
  const env = { PROM_TOKEN: 'tok-123' };
  const plan = (unit: MetricUnit, warning: string, critical: string) =>
    VALID.replace('unit: ratio', `unit: ${unit}`).replace('warning: "> 1%"', `warning: "${warning}"`).replace('critical: "> 5%"', `critical: "${critical}"`);
  const load = async (text: string) => {
    const warnings: PlanProblem[] = [];
    try {
      await parsePlan(text, 'plan.yaml', { env, secrets: new Secrets(), onWarning: (p) => warnings.push(p) });
      return { errors: [] as PlanProblem[], warnings };
    } catch (err) {
      if (err instanceof PlanError) return { errors: err.problems, warnings };
      throw err;
    }
  };

  it('an unreachable limit is an error at its line and column, with the hint', async () => {
    const { errors } = await load(plan('ratio', '> 0.01', '> 5'));
    expect(errors).toEqual([expect.objectContaining({ file: 'plan.yaml', line: 21, col: 15, message: expect.stringMatching(/"> 5" is above 1/), hint: expect.stringMatching(/0\.05/) })]);
  });

  it('an implausible limit is a warning at its line and column; the plan loads', async () => {
    const { errors, warnings } = await load(plan('seconds', '> 1', '> 500'));
    expect(errors).toEqual([]);
    expect(warnings).toEqual([expect.objectContaining({ line: 21, col: 15, message: expect.stringMatching(/"> 500" is 500s, unlikely/) })]);
  });

  it('the edges load: ratio 1, percent 100', async () => {
    expect((await load(plan('ratio', '> 0.5', '>= 1'))).errors).toEqual([]);
    expect((await load(plan('percent', '> 50', '>= 100'))).errors).toEqual([]);
    expect((await load(plan('ratio', '> 0.5', '> 1.0001'))).errors).toHaveLength(1);
    expect((await load(plan('percent', '> 50', '> 100.0001'))).errors).toHaveLength(1);
  });
});
