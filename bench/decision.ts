/**
 * Benchmark 7, decision: how often each plan rolls back a healthy canary and how soon it catches
 * a bad one, on simulated traffic whose truth is known. A 10 % stage baking 30 minutes, polled
 * every 30 s on the fake clock (a regression watched for those 30 minutes, a healthy canary for
 * 2 hours, since every hold restarts the bake). Requests arrive as Poisson processes, the canary
 * at 1, 5, 50 or 500 requests/s and the baseline at nine times that, each request an error with
 * probability 1 % (baseline) and 1 %, 2 % or 5 % (canary). For each case, 1,000 simulated rollouts; in each, the
 * same traffic is judged by both plans through the real code path of `rollout run` (runLoop,
 * judgeStagePoll, decide; only the metric reads and the state store are simulated):
 *
 * - the fixed-limit plan: the canary's error rate over the last poll, warning > 1 %, critical > 5 %;
 * - the statistical plan: a `compare:` metric of the same counts, effect +50 %, falseAlarm 1 % (default).
 *
 * Both roll back after failureLimit 2 consecutive critical polls. Targets (issue 19): false rollbacks
 * ≤ 1 % at every rate; a 2× regression at 5 requests/s detected in ≥ 95 % of rollouts within the
 * 30 minutes; a 5× regression at 5 requests/s detected with a median under 3 minutes.
 */
import { judgeStagePoll } from '../src/analysis/judge-stage.js';
import { runLoop, type RunEffects, type RunOutcome } from '../src/analysis/run-loop.js';
import { historyEvent } from '../src/rollout/events.js';
import type { Plan } from '../src/plan/types.js';
import type { MetricValue } from '../src/sources/read-metrics.js';
import { enterStage, notStarted } from '../src/state/transitions.js';
import { FakeClock } from '../test/helpers/fake-clock.js';
import { comparisonPlan, planFromYaml } from '../test/helpers/plan.js';
import { atLeast, atMost, below, median, progress, report } from './lib.js';

const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 1000) || 1000;
const INTERVAL_S = 30;
/** The stage's bake; a regression must be caught within it. */
const STAGE_S = 30 * 60;
/**
 * How long a healthy canary is watched: its stage lasts until the bake has run healthy, and any
 * hold (a warning, an undecided test) starts the bake again, so a stage often outlasts 30 minutes.
 */
const HEALTHY_S = 2 * 3600;
const CANARY_SHARE = 0.1;
const BASELINE_ERRORS = 0.01;
const RATES = [1, 5, 50, 500];

const stage = { stages: '[{ percent: 10, bake: 30m }, 100]', analysis: `{ interval: ${INTERVAL_S}s, failureLimit: 2, maxHold: 24h }` };
const fixedPlan = await planFromYaml(`version: 1
name: fixed-limits
stages: ${stage.stages}
analysis: ${stage.analysis}
sources: { sim: { type: json, url: "http://127.0.0.1:9/simulated" } }
metrics:
  - { name: errors, source: sim, path: canary.rate, unit: ratio, warning: "> 1%", critical: "> 5%" }
target: { type: command, set: [echo, "{{percent}}"] }
`);
// Both plans judge the one metric `errors`; readMetric below serves each what its plan reads.
const statisticalPlan = await comparisonPlan({ name: 'statistical', url: 'http://127.0.0.1:9/simulated', ...stage });

/** A seeded generator (xorshift128+ folded to 53 bits), so a run of the benchmark can be repeated. */
function uniformSource(seed: number): () => number {
  let a = BigInt(seed) | 1n;
  let b = 0x9e3779b97f4a7c15n ^ BigInt(seed);
  const mask = (1n << 64n) - 1n;
  return () => {
    let x = a;
    const y = b;
    a = y;
    x ^= (x << 23n) & mask;
    b = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return Number(((b + y) & mask) >> 11n) / 2 ** 53 || 2 ** -54;
  };
}

/** Poisson draws: multiplication of uniforms below a mean of 30, PTRS (Hörmann 1993) above. */
function poissonSource(uniform: () => number): (mean: number) => number {
  const logFactorial = (k: number) => {
    let sum = 0;
    for (let i = 2; i <= k; i++) sum += Math.log(i);
    return sum;
  };
  const lgamma1 = (k: number) => (k < 20 ? logFactorial(k) : (k + 0.5) * Math.log(k + 1) - (k + 1) + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * (k + 1)));
  return (mean) => {
    if (mean < 30) {
      const limit = Math.exp(-mean);
      let k = 0;
      for (let p = uniform(); p > limit; p *= uniform()) k++;
      return k;
    }
    const b = 0.931 + 2.53 * Math.sqrt(mean);
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = uniform() - 0.5;
      const v = uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -mean + k * Math.log(mean) - lgamma1(k)) return k;
    }
  };
}

/** One 30-second slot of traffic. */
interface Slot {
  canaryErrors: number;
  canaryRequests: number;
  baselineErrors: number;
  baselineRequests: number;
}

function traffic(draw: (mean: number) => number, canaryPerSecond: number, canaryErrorRate: number, seconds: number): Slot[] {
  const canary = canaryPerSecond * INTERVAL_S;
  const baseline = (canary * (1 - CANARY_SHARE)) / CANARY_SHARE;
  return Array.from({ length: seconds / INTERVAL_S }, () => {
    const canaryErrors = draw(canary * canaryErrorRate);
    const baselineErrors = draw(baseline * BASELINE_ERRORS);
    return {
      canaryErrors,
      canaryRequests: canaryErrors + draw(canary * (1 - canaryErrorRate)),
      baselineErrors,
      baselineRequests: baselineErrors + draw(baseline * (1 - BASELINE_ERRORS)),
    };
  });
}

/** What the plan's one metric reads over the slots since its previous poll. */
function readMetric(plan: Plan, slots: Slot[]): MetricValue {
  const sum = (key: keyof Slot) => slots.reduce((n, slot) => n + slot[key], 0);
  const counts = { canaryEvents: sum('canaryErrors'), canaryTotal: sum('canaryRequests'), baselineEvents: sum('baselineErrors'), baselineTotal: sum('baselineRequests') };
  if (plan.metrics[0]?.compare) return { name: 'errors', counts };
  // As a PromQL ratio reads: 0/0 is NaN, which the source reports as no data.
  return counts.canaryTotal > 0 ? { name: 'errors', value: counts.canaryEvents / counts.canaryTotal } : { name: 'errors', noDataReason: 'NaN' };
}

/** One stage of `plan` over `slots` (as long as they last): when it rolled back or advanced (s), or how it ended. */
async function rollout(plan: Plan, slots: Slot[]): Promise<{ kind: RunOutcome['kind']; seconds: number }> {
  const clock = new FakeClock();
  const ctx = { env: { ROLLOUT_ACTOR: 'bench' }, clock };
  const start = clock.now();
  let read = 0;
  const effects: RunEffects = {
    async poll(state) {
      const upTo = Math.min(slots.length, Math.floor((clock.now() - start) / (INTERVAL_S * 1000)));
      const value = readMetric(plan, slots.slice(read, upTo));
      read = upTo;
      return judgeStagePoll(plan, { metrics: [value] }, state, clock.now());
    },
    guard: async () => undefined,
    commit: async () => undefined,
    record: async () => undefined,
    notify: async () => undefined,
    emit: () => undefined,
    event: (fields) => historyEvent(plan, ctx, fields),
    standBy: async () => undefined,
    reclaim: async () => undefined,
  };
  const state = enterStage(plan, notStarted(plan), 0, start);
  const outcome = await runLoop({ plan, state, clock, signal: new AbortController().signal, effects, options: { untilStage: 0, timeoutMs: slots.length * INTERVAL_S * 1000 + 1000 } });
  return { kind: outcome.kind, seconds: (clock.now() - start) / 1000 };
}

interface Tally {
  rolledBack: number;
  passed: number;
  detectSeconds: number[];
  passSeconds: number[];
}

async function runCase(canaryPerSecond: number, ratio: number, seed: number): Promise<{ fixed: Tally; statistical: Tally }> {
  const draw = poissonSource(uniformSource(seed));
  const tally = (): Tally => ({ rolledBack: 0, passed: 0, detectSeconds: [], passSeconds: [] });
  const tallies = { fixed: tally(), statistical: tally() };
  for (let i = 0; i < ROLLOUTS; i++) {
    const slots = traffic(draw, canaryPerSecond, BASELINE_ERRORS * ratio, ratio === 1 ? HEALTHY_S : STAGE_S);
    for (const [name, plan] of [['fixed', fixedPlan], ['statistical', statisticalPlan]] as const) {
      const outcome = await rollout(plan, slots);
      const tally = tallies[name];
      if (outcome.kind === 'rolled-back') {
        tally.rolledBack++;
        tally.detectSeconds.push(outcome.seconds);
      } else if (outcome.kind === 'until') {
        tally.passed++;
        tally.passSeconds.push(outcome.seconds);
      }
      else if (outcome.kind !== 'timeout') throw new Error(`unexpected outcome ${outcome.kind}`);
    }
  }
  return tallies;
}

const percent = (count: number) => `${((100 * count) / ROLLOUTS).toFixed(1)} %`;
const minutes = (seconds: number[]) => (seconds.length === 0 ? '—' : `${(median(seconds) / 60).toFixed(1)} min`);
const detection = (t: Tally) => `${percent(t.rolledBack)} detected, median ${minutes(t.detectSeconds)}`;
const advanced = (t: Tally) => `${percent(t.passed)}, median ${minutes(t.passSeconds)}`;

let seed = 19;
for (const ratio of [1, 2, 5]) {
  for (const rate of RATES) {
    const { fixed, statistical } = await runCase(rate, ratio, seed++);
    const what = `${rate} canary req/s`;
    progress(`${ratio}× at ${what}: statistical ${detection(statistical)}, advanced ${advanced(statistical)}; fixed ${detection(fixed)}, advanced ${advanced(fixed)}`);
    const reference = (text: string) => `${text} (fixed limits)`;
    if (ratio === 1) {
      report({ benchmark: `decision: healthy 1 % vs 1 %, ${what}: false rollbacks in 2 h`, measured: percent(statistical.rolledBack), reference: reference(percent(fixed.rolledBack)), target: atMost(1, (100 * statistical.rolledBack) / ROLLOUTS, ' %') });
      report({ benchmark: `decision: healthy, ${what}: advanced in 2 h (info)`, measured: advanced(statistical), reference: reference(advanced(fixed)) });
    } else {
      const share = (100 * statistical.rolledBack) / ROLLOUTS;
      const target =
        ratio === 2 && rate === 5 ? atLeast(95, share, ' %') : ratio === 5 && rate === 5 ? below(3, statistical.detectSeconds.length > ROLLOUTS / 2 ? median(statistical.detectSeconds) / 60 : Infinity, 'min median') : undefined;
      report({ benchmark: `decision: ${ratio}× regression, ${what}: detected in 30 min`, measured: detection(statistical), reference: reference(detection(fixed)), target });
    }
  }
}
