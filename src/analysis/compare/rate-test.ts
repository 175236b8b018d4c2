/**
 * An always-valid sequential test of two event rates, canary against baseline, from counts: is the
 * canary's rate (errors per request, say) worse than the baseline's, or shown not worse by the
 * smallest effect that matters? It may be looked at after every poll, for as long as the stage
 * lasts, without its false-alarm rate growing.
 *
 * The model (as in Lindon, Sanden & Shirikian, "Rapid Regression Detection in Software Deployments
 * through Sequential Testing", KDD 2022): the canary's and the baseline's events are counting
 * processes, the canary's at ρ times the baseline's rate per request (ρ, the relative risk, is what
 * the plan's `effect` is about). Given the traffic, each event that happens comes from the canary
 * with probability
 *
 *     π(ρ) = ρ·s / (ρ·s + 1 − s),      s = canary requests / all requests (the canary's share)
 *
 * which removes the baseline's own rate, whatever it is, from the question. After X_c canary and
 * X_b baseline events, the likelihood ratio of ρ against ρ₀ is
 *
 *     L(ρ; ρ₀) = (π(ρ)/π(ρ₀))^X_c · ((1 − π(ρ))/(1 − π(ρ₀)))^X_b
 *
 * and the mixture Λ = Σᵢ wᵢ·L(ρᵢ; ρ₀) over a prior grid of ρᵢ with weights wᵢ summing to 1 is the
 * mSPRT statistic (Robbins 1970; Johari, Pekelis & Walsh, "Always Valid Inference", 2017).
 *
 * Error bound. Take the critical test: ρ₀ = 1 and every ρᵢ on the worse side. For each event, the
 * expected factor by which L(ρᵢ; 1) grows is π'·π(ρᵢ)/π(1) + (1 − π')·(1 − π(ρᵢ))/(1 − π(1)) where π'
 * is the true canary probability; it is linear in π', equals 1 at π' = π(1) and is ≤ 1 for every
 * canary that is not worse (π' ≤ π(1)). So each L(ρᵢ; 1), and the mixture Λ, is a non-negative
 * supermartingale starting at 1 whenever the canary is not worse, and Ville's inequality gives
 *
 *     P(Λ ever reaches 1/α during the stage) ≤ α
 *
 * however often it is looked at: a canary that is not worse is called `critical` with probability
 * at most α (the plan's `falseAlarm`). The same argument, mirrored, bounds the `ok` test: with
 * ρ₀ = 1 + effect and the ρᵢ below it, a canary worse by the effect or more is called `ok` with
 * probability at most α. Binomial rather than Poisson events (a request is an error or not) only
 * tighten the bound: conditioned on the totals, the canary's share of events is hypergeometric,
 * which is dominated in convex order by the binomial (Hoeffding 1963, Theorem 4).
 *
 * Two approximations, both stated: s is read from the counted traffic (the flag's percentage fixes
 * it in expectation; the realised share is what the events were drawn from), and the counts are
 * pooled over the stage rather than kept per poll, which is exact while s stays put.
 *
 * "Sure" as shown to people is 1 − 1/Λ (clamped at 0): the confidence the always-valid p-value 1/Λ
 * gives. Its test needs 1 − α: Λ ≥ 1/α.
 */


import type { EventCounts } from '../../readings.js';

/** What matters to the test: the smallest effect, signed, and the false-alarm budget. */
export interface RateTestOptions {
  /** Relative change that matters, signed by the worse direction: +0.5 (50 % more is worse), -0.2. */
  effect: number;
  /** α: the chance per stage of calling a canary worse when it is not (and `ok` when it is). */
  falseAlarm: number;
}

/** The test's answer now. */
export interface RateTestResult {
  /** `critical`: worse with the required confidence; `ok`: shown not worse by the effect. */
  verdict: 'critical' | 'ok' | 'undecided';
  /** Events per request; undefined without traffic. */
  canaryRate?: number;
  baselineRate?: number;
  /** How sure the test is that the canary is worse, 0..1. */
  sureWorse: number;
  /** How sure it is that the canary is not worse by the effect, 0..1. */
  sureNotWorse: number;
}

/** A prior: log relative risks on the worse side (u > 0 is worse), each with a weight. */
interface Prior {
  /** Log relative risk of the null hypothesis, on the worse side. */
  nullU: number;
  points: { u: number; logWeight: number }[];
}

const CRITICAL_POINTS = 24;
const OK_POINTS = 16;

/**
 * The critical test's prior: log-uniform over the worse side from a quarter of the effect to six
 * times it, so a 2× or 5× regression of a plan that says "+50%" lies well inside it. The ok test's:
 * uniform from as much better as the effect is worse up to halfway to the effect, centred on
 * "no difference", the case it has to confirm.
 */
function priors(effect: number): { critical: Prior; ok: Prior } {
  const effectU = Math.abs(Math.log(1 + effect));
  const lowest = effectU / 4;
  const highest = Math.min(effectU * 6, Math.log(50));
  const critical = Array.from({ length: CRITICAL_POINTS }, (_, i) => lowest * Math.pow(highest / lowest, i / (CRITICAL_POINTS - 1)));
  const ok = Array.from({ length: OK_POINTS }, (_, i) => -effectU + (1.5 * effectU * i) / (OK_POINTS - 1));
  const weigh = (us: number[]) => us.map((u) => ({ u, logWeight: -Math.log(us.length) }));
  return { critical: { nullU: 0, points: weigh(critical) }, ok: { nullU: effectU, points: weigh(ok) } };
}

/** log Σ exp(xᵢ), without overflow. */
function logSumExp(values: number[]): number {
  const max = Math.max(...values);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(values.reduce((sum, v) => sum + Math.exp(v - max), 0));
}

/** log Λ of the mixture `prior` after the events, with the canary's share of traffic `share`. */
function logMixture(prior: Prior, counts: EventCounts, share: number, direction: 1 | -1): number {
  const canaryShare = (u: number) => {
    const rho = Math.exp(direction * u);
    return (rho * share) / (rho * share + 1 - share);
  };
  const pi0 = canaryShare(prior.nullU);
  return logSumExp(
    prior.points.map(({ u, logWeight }) => {
      const pi = canaryShare(u);
      return logWeight + counts.canaryEvents * Math.log(pi / pi0) + counts.baselineEvents * Math.log((1 - pi) / (1 - pi0));
    }),
  );
}

/** "Sure" from log Λ: 1 − 1/Λ, at least 0. */
const sureOf = (logLambda: number): number => Math.max(0, 1 - Math.exp(-logLambda));

/** Runs both tests on the counts so far; see the file comment for the statistic and its bound. */
export function testRates(counts: EventCounts, options: RateTestOptions): RateTestResult {
  const { canaryTotal, baselineTotal } = counts;
  const rates = {
    canaryRate: canaryTotal > 0 ? counts.canaryEvents / canaryTotal : undefined,
    baselineRate: baselineTotal > 0 ? counts.baselineEvents / baselineTotal : undefined,
  };
  // Without traffic on both sides there is nothing to compare yet.
  if (!(canaryTotal > 0 && baselineTotal > 0)) return { verdict: 'undecided', ...rates, sureWorse: 0, sureNotWorse: 0 };
  const share = canaryTotal / (canaryTotal + baselineTotal);
  const direction = options.effect > 0 ? 1 : -1;
  const prior = priors(options.effect);
  const logWorse = logMixture(prior.critical, counts, share, direction);
  const logNotWorse = logMixture(prior.ok, counts, share, direction);
  const threshold = -Math.log(options.falseAlarm);
  // Both can hold for a canary worse, but by less than the effect: worse wins, safety first.
  const verdict = logWorse >= threshold ? 'critical' : logNotWorse >= threshold ? 'ok' : 'undecided';
  return { verdict, ...rates, sureWorse: sureOf(logWorse), sureNotWorse: sureOf(logNotWorse) };
}
