import { describe, expect, it } from 'vitest';
import { judgeStagePoll } from '../../src/analysis/judge-stage.js';
import { decide } from '../../src/analysis/decide.js';
import type { EventCounts } from '../../src/readings.js';
import { enterStage, notStarted } from '../../src/state/transitions.js';
import type { RolloutState } from '../../src/state/types.js';
import { comparisonPlan } from '../helpers/plan.js';

const plan = await comparisonPlan({
  name: 'compared',
  url: 'http://127.0.0.1:9/m',
  stages: '[10, 50, 100]',
  analysis: '{ interval: 30s, bake: 5m, failureLimit: 1, warmup: 1m }',
  moreMetrics: '  - { name: latency, source: app, path: p95, unit: seconds, critical: "> 2s" }',
});

const T0 = Date.parse('2026-01-01T10:00:00Z');
const poll = (counts: EventCounts | { noData: string }) => ({
  metrics: ['noData' in counts ? { name: 'errors', noDataReason: counts.noData } : { name: 'errors', counts }, { name: 'latency', value: 0.3 }],
});
const perPoll = (canaryEvents: number, baselineEvents: number): EventCounts => ({ canaryEvents, canaryTotal: 1000, baselineEvents, baselineTotal: 9000 });

/** Polls every 30 s after the warm-up, keeping the evidence in state as `run` does. */
function pollStage(state: RolloutState, polls: EventCounts[], from = T0 + 60_000) {
  let current = state;
  let judgement;
  for (const [i, counts] of polls.entries()) {
    judgement = judgeStagePoll(plan, poll(counts), current, from + i * 30_000);
    current = { ...current, evidence: judgement.evidence };
  }
  return { state: current, judgement: judgement! };
}

const atTen = () => enterStage(plan, notStarted(plan), 0, T0);

describe('comparison metrics in judge and decide', () => {
  it('adds each poll to the stage and turns critical once the sum shows the canary worse', () => {
    const { state, judgement } = pollStage(atTen(), Array.from({ length: 8 }, () => perPoll(20, 90)));
    expect(state.evidence?.counts.errors).toEqual({ canaryEvents: 160, canaryTotal: 8000, baselineEvents: 720, baselineTotal: 72_000 });
    const reading = judgement.readings[0]!;
    expect(reading).toMatchObject({ status: 'critical', value: 0.02, baseline: 0.01, display: 'canary 2% vs baseline 1%' });
    expect(reading.reason).toMatch(/^\d+(\.\d)?% sure it is worse \(needs 99%\)$/);
    expect(judgement.verdict).toBe('critical');
    expect(judgement.reasons[0]).toMatch(/^errors canary 2% vs baseline 1%, \d+(\.\d)?% sure it is worse \(needs 99%\)$/);
    expect(decide({ plan, state, judgement, now: T0 + 5 * 60_000, mode: 'auto' }).decision.action).toBe('rollback');
  });

  it('holds while undecided, with both confidences in words, and is ok once shown not worse', () => {
    const first = pollStage(atTen(), [perPoll(1, 9)]);
    expect(first.judgement.readings[0]).toMatchObject({ status: 'undecided' });
    expect(first.judgement.readings[0]?.reason).toMatch(/^undecided: \d+(\.\d)?% sure it is worse, \d+(\.\d)?% sure it is not \+50% or worse \(either needs 99%\)$/);
    expect(first.judgement.verdict).toBe('hold');
    const later = pollStage(atTen(), Array.from({ length: 20 }, () => perPoll(10, 90)));
    expect(later.judgement.readings[0]).toMatchObject({ status: 'ok' });
    expect(later.judgement.verdict).toBe('healthy');
  });

  it('does not count warm-up polls, nor a poll sooner than the interval after the last one counted', () => {
    const warm = judgeStagePoll(plan, poll(perPoll(50, 90)), atTen(), T0 + 10_000);
    expect(warm.evidence?.counts).toEqual({});
    const { state } = pollStage(atTen(), [perPoll(1, 9)]);
    const soon = judgeStagePoll(plan, poll(perPoll(1, 9)), state, T0 + 60_000 + 5_000);
    expect(soon.evidence).toBe(state.evidence);
    const due = judgeStagePoll(plan, poll(perPoll(1, 9)), state, T0 + 60_000 + 28_000);
    expect(due.evidence?.counts.errors?.canaryTotal).toBe(2000);
  });

  it('a poll without data is no data, keeps what was counted, and follows noData', () => {
    const { state } = pollStage(atTen(), [perPoll(1, 9)]);
    const judgement = judgeStagePoll(plan, poll({ noData: 'canary total: timeout after 5000 ms' }), state, T0 + 120_000);
    expect(judgement.readings[0]).toMatchObject({ status: 'nodata', reason: 'canary total: timeout after 5000 ms' });
    expect(judgement.verdict).toBe('hold');
    expect(judgement.evidence?.counts.errors?.canaryTotal).toBe(1000);
  });

  it.each<[string, EventCounts, RegExp]>([
    ['a negative count (a counter reset read as a difference)', { canaryEvents: 3, canaryTotal: -300, baselineEvents: 20, baselineTotal: 2700 }, /^canary total -300 is not a count: check the query$/],
    ['a count that is not finite', { canaryEvents: 3, canaryTotal: 300, baselineEvents: Number.NaN, baselineTotal: 2700 }, /^baseline events NaN is not a count/],
    ['far more events than requests', { canaryEvents: 30, canaryTotal: 3, baselineEvents: 20, baselineTotal: 2700 }, /more events than requests .*check the queries/],
  ])('%s is no data with its reason, and is not counted', (_case, counts, reason) => {
    const { state } = pollStage(atTen(), [perPoll(1, 9)]);
    const judgement = judgeStagePoll(plan, poll(counts), state, T0 + 120_000);
    expect(judgement.readings[0]).toMatchObject({ status: 'nodata' });
    expect(judgement.readings[0]?.reason).toMatch(reason);
    expect(judgement.evidence?.counts.errors).toEqual(perPoll(1, 9));
  });

  it('a few events over the requests (increases extrapolated apart) count as every request failing', () => {
    const judgement = judgeStagePoll(plan, poll({ canaryEvents: 10.4, canaryTotal: 10, baselineEvents: 1, baselineTotal: 90 }), atTen(), T0 + 60_000);
    expect(judgement.evidence?.counts.errors).toMatchObject({ canaryEvents: 10, canaryTotal: 10 });
  });

  it('starts afresh in a new stage, and does not compare at 100% where no baseline is left', () => {
    const { state } = pollStage(atTen(), [perPoll(1, 9)]);
    const fifty = enterStage(plan, state, 1, T0 + 600_000);
    expect(fifty.evidence).toBeUndefined();
    const next = judgeStagePoll(plan, poll(perPoll(5, 5)), fifty, T0 + 700_000);
    expect(next.evidence).toMatchObject({ stageIndex: 1, percent: 50, counts: { errors: { canaryEvents: 5 } } });
    // Counts another stage left in state (a transition that kept them) are not this stage's.
    const stale = judgeStagePoll(plan, poll(perPoll(5, 5)), { ...fifty, evidence: state.evidence }, T0 + 700_000);
    expect(stale.evidence).toMatchObject({ stageIndex: 1, percent: 50, counts: { errors: { canaryEvents: 5 } } });
    const full = enterStage(plan, fifty, 2, T0 + 900_000);
    const last = judgeStagePoll(plan, poll({ canaryEvents: 5, canaryTotal: 1000, baselineEvents: 0, baselineTotal: 0 }), full, T0 + 1_000_000);
    expect(last.readings[0]).toMatchObject({ status: 'ok', display: 'no baseline at 100%' });
  });
});
