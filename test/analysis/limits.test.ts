import { describe, expect, it } from 'vitest';
import { breaches, parseLimit } from '../../src/analysis/limits.js';
import type { Limit, MetricUnit } from '../../src/plan/types.js';

const limit = (text: string, unit: MetricUnit, baseline = false): Limit => {
  const parsed = parseLimit(text, unit, baseline);
  if ('message' in parsed) throw new Error(parsed.message);
  return parsed;
};

describe('parseLimit converts every unit into the metric unit', () => {
  it.each<[string, MetricUnit, string, number]>([
    ['> 1%', 'ratio', '>', 0.01],
    ['>= 5%', 'percent', '>=', 5],
    ['< 99%', 'percent', '<', 99],
    ['< 0.95', 'ratio', '<', 0.95],
    ['> 3s', 'seconds', '>', 3],
    ['> 3s', 'milliseconds', '>', 3000],
    ['> 250ms', 'seconds', '>', 0.25],
    ['> 250ms', 'milliseconds', '>', 250],
    ['> 2m', 'seconds', '>', 120],
    ['> 1h', 'milliseconds', '>', 3_600_000],
    ['> 100', 'count', '>', 100],
    ['<= 7', 'seconds', '<=', 7],
    ['  >   1.5%  ', 'ratio', '>', 0.015],
  ])('%j on %s → %s %d', (text, unit, op, value) => {
    const l = limit(text, unit);
    expect(l.op).toBe(op);
    expect(l.value).toBeCloseTo(value, 10);
    expect(l.relative).toBe(false);
  });

  it('reads a signed percentage as relative to the baseline', () => {
    expect(limit('> +20%', 'seconds', true)).toMatchObject({ op: '>', value: 0.2, relative: true });
    expect(limit('< -10%', 'ratio', true)).toMatchObject({ op: '<', value: -0.1, relative: true });
  });

  it.each<[string, MetricUnit, boolean, RegExp]>([
    ['> 3s', 'ratio', false, /"s" does not apply to a metric in ratio/],
    ['> 1%', 'seconds', false, /"%" does not apply/],
    ['> 1%', 'count', false, /does not apply/],
    ['> +20%', 'seconds', false, /needs a baseline/],
    ['> +20s', 'seconds', true, /needs a percentage/],
    ['> 5%', 'ratio', true, /absolute, but this metric compares against its baseline/],
    ['above 5', 'ratio', false, /is not a limit/],
    ['=> 5', 'ratio', false, /is not a limit/],
    ['> 5 %%', 'ratio', false, /is not a limit/],
  ])('%j on %s (baseline %s) is refused', (text, unit, baseline, message) => {
    const parsed = parseLimit(text, unit, baseline);
    expect('message' in parsed && parsed.message).toMatch(message);
    expect('hint' in parsed && parsed.hint.length).toBeGreaterThan(0);
  });
});

describe('breaches', () => {
  it.each<[string, number, boolean]>([
    ['> 1%', 0.011, true],
    ['> 1%', 0.01, false],
    ['>= 1%', 0.01, true],
    ['< 99%', 0.98, true],
    ['< 99%', 0.99, false],
    ['<= 99%', 0.99, true],
  ])('%s breached by %d: %s', (text, value, expected) => {
    expect(breaches(limit(text, 'ratio'), value)).toBe(expected);
  });
});
