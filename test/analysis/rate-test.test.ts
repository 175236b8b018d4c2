import { describe, expect, it } from 'vitest';
import { testRates } from '../../src/analysis/compare/rate-test.js';
import type { EventCounts } from '../../src/readings.js';

const PLAN = { effect: 0.5, falseAlarm: 0.01 };

/** log of the binomial probability of k in n at p. */
function logBinomial(k: number, n: number, p: number): number {
  let logChoose = 0;
  for (let i = 1; i <= k; i++) logChoose += Math.log(n - k + i) - Math.log(i);
  return logChoose + k * Math.log(p) + (n - k) * Math.log(1 - p);
}

/** The exact one-sided binomial tail P(X ≥ k), the fixed-sample conditional test of two Poisson rates. */
function upperTail(k: number, n: number, p: number): number {
  let sum = 0;
  for (let i = k; i <= n; i++) sum += Math.exp(logBinomial(i, n, p));
  return sum;
}

/** R's two-sided binom.test p-value: the outcomes no more likely than the one seen. */
function twoSided(k: number, n: number, p: number): number {
  const seen = logBinomial(k, n, p);
  let sum = 0;
  for (let i = 0; i <= n; i++) if (logBinomial(i, n, p) <= seen + 1e-7) sum += Math.exp(logBinomial(i, n, p));
  return sum;
}

/** A seeded generator (LCG) and Poisson draws, so the Monte Carlo checks are the same every run. */
function poissonSource(seed: number): (mean: number) => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 4294967296;
  };
  return (mean) => {
    const limit = Math.exp(-mean);
    let k = 0;
    for (let p = uniform(); p > limit; p *= uniform()) k++;
    return k;
  };
}

describe('the reference test the sequential one is checked against', () => {
  // Published values: R's documentation of poisson.test (eba1977: Fredericia, 11 cases in 800
  // person-years, against 21 in 3011) gives p = 0.07967; binom.test's (Mendel's peas, 682 of 925
  // at 3/4) gives p = 0.3825.
  it('reproduces R: poisson.test(c(11, 21), c(800, 3011)) and binom.test(682, 925, 3/4)', () => {
    expect(twoSided(11, 32, 800 / 3811)).toBeCloseTo(0.07967, 5);
    expect(twoSided(682, 925, 0.75)).toBeCloseTo(0.3825, 4);
  });
});

describe('testRates', () => {
  it('is never surer than the exact fixed-sample test at the same counts (Markov: 1/Λ ≥ P(X ≥ x))', () => {
    // The eba1977 counts first, then a grid of splits of 40 events between canary and baseline.
    const cases: EventCounts[] = [{ canaryEvents: 11, canaryTotal: 800, baselineEvents: 21, baselineTotal: 3011 }];
    for (let canary = 0; canary <= 40; canary += 2) cases.push({ canaryEvents: canary, canaryTotal: 1000, baselineEvents: 40 - canary, baselineTotal: 9000 });
    for (const counts of cases) {
      const events = counts.canaryEvents + counts.baselineEvents;
      const share = counts.canaryTotal / (counts.canaryTotal + counts.baselineTotal);
      const exact = upperTail(counts.canaryEvents, events, share);
      expect(1 - testRates(counts, PLAN).sureWorse).toBeGreaterThanOrEqual(exact - 1e-12);
    }
    // Critical exactly when it is at least 1 − α sure.
    for (const counts of cases) {
      const result = testRates(counts, PLAN);
      expect(result.verdict === 'critical').toBe(result.sureWorse >= 1 - PLAN.falseAlarm);
    }
    // eba1977's one-sided exact p is 0.056: nowhere near sure, so nowhere near critical.
    expect(testRates(cases[0]!, PLAN).verdict).toBe('undecided');
  });

  it('is undecided without traffic or without events, and says it is not sure either way', () => {
    expect(testRates({ canaryEvents: 0, canaryTotal: 0, baselineEvents: 3, baselineTotal: 500 }, PLAN)).toMatchObject({ verdict: 'undecided', canaryRate: undefined, sureWorse: 0, sureNotWorse: 0 });
    expect(testRates({ canaryEvents: 0, canaryTotal: 50, baselineEvents: 0, baselineTotal: 450 }, PLAN)).toMatchObject({ verdict: 'undecided', canaryRate: 0, sureWorse: 0 });
  });

  it('is critical for a doubled error rate with enough events, and ok for an equal one', () => {
    const doubled = testRates({ canaryEvents: 200, canaryTotal: 10_000, baselineEvents: 900, baselineTotal: 90_000 }, PLAN);
    expect(doubled.verdict).toBe('critical');
    expect(doubled.sureWorse).toBeGreaterThan(0.99);
    expect(doubled.canaryRate).toBeCloseTo(0.02);
    const equal = testRates({ canaryEvents: 100, canaryTotal: 10_000, baselineEvents: 900, baselineTotal: 90_000 }, PLAN);
    expect(equal.verdict).toBe('ok');
    expect(equal.sureNotWorse).toBeGreaterThan(0.99);
    expect(equal.sureWorse).toBeLessThan(0.5);
  });

  it('grows surer of worse with every extra canary event', () => {
    let before = -1;
    for (let canary = 0; canary <= 30; canary++) {
      const { sureWorse } = testRates({ canaryEvents: canary, canaryTotal: 1000, baselineEvents: 90, baselineTotal: 9000 }, PLAN);
      expect(sureWorse).toBeGreaterThanOrEqual(before);
      before = sureWorse;
    }
    expect(before).toBeGreaterThan(0.99);
  });

  it('with a negative effect, a drop is worse and a rise is not', () => {
    const drop = { effect: -0.2, falseAlarm: 0.01 };
    const fewer = testRates({ canaryEvents: 700, canaryTotal: 1000, baselineEvents: 8100, baselineTotal: 9000 }, drop);
    expect(fewer.verdict).toBe('critical');
    const more = testRates({ canaryEvents: 950, canaryTotal: 1000, baselineEvents: 8100, baselineTotal: 9000 }, drop);
    expect(more.sureWorse).toBe(0);
    expect(more.verdict).toBe('ok');
  });

  it('a canary as good as its baseline, watched every poll, is called critical in at most α of stages', () => {
    // 1,500 stages of 60 polls at 5 canary requests/s (10 % share), 1 % errors on both sides,
    // Poisson errors. α = 10 % here, so that a statistic a little too bold shows: at α = 1 % the
    // bound is met with too few false alarms to tell. (Measured: 2.9 %; with the prior's weights
    // left unnormalised, 58 %.)
    const draw = poissonSource(20260101);
    let critical = 0;
    for (let stage = 0; stage < 1500; stage++) {
      const counts = { canaryEvents: 0, canaryTotal: 0, baselineEvents: 0, baselineTotal: 0 };
      for (let poll = 0; poll < 60; poll++) {
        counts.canaryEvents += draw(1.5);
        counts.canaryTotal += 150;
        counts.baselineEvents += draw(13.5);
        counts.baselineTotal += 1350;
        if (testRates(counts, { effect: 0.5, falseAlarm: 0.1 }).verdict === 'critical') {
          critical++;
          break;
        }
      }
    }
    expect(critical / 1500).toBeLessThan(0.1);
  });
});
