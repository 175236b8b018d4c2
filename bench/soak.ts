/**
 * Benchmark 5, soak: the run loop of `rollout run` (src/analysis/run-loop.ts) for 100,000 polls of
 * a 1 s interval (28 hours of a stage baking for 30 days) on a fake clock, with fake effects: the
 * real judge and the real history events, a store that keeps only the latest state, no output.
 * The metric is mostly healthy, with a warning every 97th poll and a lone critical every 1,000th,
 * so holds begin and end, counters are committed and events recorded all along, never a rollback.
 *
 * Heap growth: V8's heapUsed after a forced GC (the process runs with --expose-gc) at poll 100,000
 * minus the same at poll 1,000 (once the code is compiled), both taken inside the run, with the
 * loop's own state alive: what the loop accumulates, not what it frees on return. Target < 10 MB.
 * Time per poll: each poll's start time goes into a preallocated array; the mean interval over the
 * last 10 % of polls is compared with the mean over the first 10 % (target ≤ 1.5×): a loop whose
 * per-poll work grows with its history shows up here. Both are medians over the runs.
 */
import { inWarmup } from '../src/analysis/decide.js';
import { judgePoll } from '../src/analysis/judge.js';
import { runLoop, type RunEffects } from '../src/analysis/run-loop.js';
import { historyEvent } from '../src/rollout/events.js';
import { FakeClock } from '../test/helpers/fake-clock.js';
import { planFromYaml } from '../test/helpers/plan.js';
import { atMost, below, median, progress, report, RUNS } from './lib.js';

const POLLS = 100_000;
const WARM = 1_000;
const TENTH = POLLS / 10;

const plan = await planFromYaml(`
version: 1
name: soak
stages: [{ percent: 10, bake: 30d }, 100]
analysis: { interval: 1s, failureLimit: 2, maxHold: 1h }
sources: { app: { type: json, url: "http://127.0.0.1:9/m" } }
metrics:
  - { name: error_rate, source: app, path: error_rate, unit: ratio, warning: "> 1%", critical: "> 5%" }
target: { type: command, set: [echo, "{{percent}}"] }
`);

/** The error rate read at poll `n`. */
function errorRate(n: number): number {
  if (n % 1000 === 500) return 0.1;
  if (n % 97 === 0) return 0.02;
  return 0.001;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (bench/run.mjs does)');

interface SoakRun {
  heapGrowth: number;
  firstTenthMs: number;
  lastTenthMs: number;
}

async function soak(): Promise<SoakRun> {
  const clock = new FakeClock();
  const ctx = { env: { ROLLOUT_ACTOR: 'bench' }, clock };
  const controller = new AbortController();
  const starts = new Float64Array(POLLS);
  let polls = 0;
  let heapAtWarm = 0;
  let heapAtEnd = 0;
  let gcMs = 0;
  let kind = '';
  const effects: RunEffects = {
    async poll(state) {
      clock.sleeps.length = 0; // the fake clock's own record of sleeps is not the loop's memory
      starts[polls] = performance.now();
      if (polls === WARM) {
        gc!();
        heapAtWarm = process.memoryUsage().heapUsed;
        gcMs = performance.now() - starts[polls]!; // taken out of the first tenth's time below
      }
      const judgement = judgePoll(plan, [{ name: 'error_rate', value: errorRate(polls) }], { warmingUp: inWarmup(plan, state, clock.now()) });
      if (++polls === POLLS) {
        gc!();
        heapAtEnd = process.memoryUsage().heapUsed;
        controller.abort();
      }
      return judgement;
    },
    guard: async () => undefined,
    commit: async () => undefined,
    record: async () => undefined,
    notify: async () => undefined,
    emit: (event) => {
      if (event.type === 'event') kind = event.event.action;
    },
    event: (fields) => historyEvent(plan, ctx, fields),
    standBy: async () => undefined,
    reclaim: async () => undefined,
  };
  const outcome = await runLoop({ plan, state: undefined, clock, signal: controller.signal, effects });
  if (outcome.kind !== 'interrupted' || polls !== POLLS) throw new Error(`the soak ended early: ${outcome.kind} after ${polls} polls (last event ${kind}): ${outcome.reason}`);
  return {
    heapGrowth: heapAtEnd - heapAtWarm,
    firstTenthMs: (starts[TENTH]! - starts[0]! - gcMs) / TENTH,
    lastTenthMs: (starts[POLLS - 1]! - starts[POLLS - TENTH - 1]!) / TENTH,
  };
}

const runs: SoakRun[] = [];
for (let i = 0; i < RUNS; i++) {
  runs.push(await soak());
  const last = runs[runs.length - 1]!;
  progress(`run ${i + 1}: heap ${(last.heapGrowth / 1e6).toFixed(2)} MB, ${(last.firstTenthMs * 1000).toFixed(1)} → ${(last.lastTenthMs * 1000).toFixed(1)} µs/poll`);
}
const growth = median(runs.map((r) => r.heapGrowth));
const first = median(runs.map((r) => r.firstTenthMs));
const last = median(runs.map((r) => r.lastTenthMs));
const flatness = median(runs.map((r) => r.lastTenthMs / r.firstTenthMs));
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs/poll`;
report({
  benchmark: `soak: heap growth over ${POLLS.toLocaleString('en')} polls`,
  measured: `${(growth / 1e6).toFixed(2)} MB`,
  reference: `poll ${WARM.toLocaleString('en')} → ${POLLS.toLocaleString('en')}, after GC`,
  target: below(10, growth / 1e6, 'MB'),
});
report({ benchmark: 'soak: time per poll, last 10 % vs first 10 %', measured: `${us(last)} (last 10 %)`, reference: `${us(first)} (first 10 %)`, ratio: flatness, target: atMost(1.5, flatness) });
