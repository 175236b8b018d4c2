/** decide()'s boundaries and the counters it carries, exactly (src/analysis/decide.ts). */
import { describe, expect, it } from 'vitest';
import { bakeLeftMs, decide, inWarmup } from '../../src/analysis/decide.js';
import type { Judgement, Verdict } from '../../src/analysis/judge.js';
import type { RolloutState } from '../../src/state/types.js';
import { planFromYaml } from '../helpers/plan.js';

const plan = await planFromYaml(`
version: 1
name: edges
stages: [{ percent: 10, bake: 10m }, { percent: 100, bake: 90m }]
analysis: { failureLimit: 2, maxHold: 1h, warmup: 1m, onMaxHold: rollback }
target: { type: command, set: [echo] }
`);
const MIN = 60_000;
const T0 = 1_700_000_000_000;
const restart = { at: T0 + 2 * MIN, reason: 'earlier blip' };
const at10: RolloutState = { plan: 'edges', stageIndex: 0, percent: 10, enteredAt: T0, consecutiveCritical: 1, holdingSince: T0 + MIN, bakeRestart: restart, completed: false, rolledBack: false, version: 3 };
const judged = (verdict: Verdict, over: Partial<Judgement> = {}): Judgement => ({ verdict, readings: [], reasons: verdict === 'healthy' ? [] : ['x is bad'], warmingUp: false, readingsVerdict: verdict, ...over });
const kept = { consecutiveCritical: 1, holdingSince: T0 + MIN, bakeRestart: restart };

describe('inWarmup and bakeLeftMs at their boundaries', () => {
  it('warm-up lasts exactly analysis.warmup from the stage entry, and only in a started stage', () => {
    expect(inWarmup(plan, undefined, T0)).toBe(false);
    expect(inWarmup(plan, { ...at10, stageIndex: -1 }, T0)).toBe(false);
    expect(inWarmup(plan, at10, T0 + MIN - 1)).toBe(true);
    expect(inWarmup(plan, at10, T0 + MIN)).toBe(false);
  });
  it('the bake counts from the later of entry and restart; 0 when not started or beyond the stages', () => {
    expect(bakeLeftMs(plan, undefined, T0)).toBe(0);
    expect(bakeLeftMs(plan, { ...at10, stageIndex: -1 }, T0)).toBe(0);
    expect(bakeLeftMs(plan, { ...at10, stageIndex: 5 }, T0)).toBe(0);
    expect(bakeLeftMs(plan, at10, T0 + 3 * MIN)).toBe(9 * MIN);
    expect(bakeLeftMs(plan, { ...at10, bakeRestart: { at: T0 - 5 * MIN, reason: 'old' } }, T0 + 3 * MIN)).toBe(7 * MIN);
    expect(bakeLeftMs(plan, { ...at10, bakeRestart: undefined }, T0 + 11 * MIN)).toBe(0);
  });
});

describe('decide keeps or resets the counters exactly', () => {
  it('paused, without a judgement, or warming up: everything kept as it is', () => {
    expect(decide({ plan, state: { ...at10, paused: { reason: 'r', by: 'b', at: 0 } }, judgement: judged('critical'), now: T0, mode: 'auto' }).counters).toEqual(kept);
    expect(decide({ plan, state: at10, judgement: undefined, now: T0, mode: 'auto' })).toEqual({ decision: { action: 'hold', reason: 'no judgement' }, counters: kept });
    expect(decide({ plan, state: at10, judgement: judged('hold', { warmingUp: true, reasons: ['warming up: readings are not judged yet'] }), now: T0, mode: 'auto' })).toEqual({
      decision: { action: 'hold', reason: 'warming up: readings are not judged yet' },
      counters: kept,
    });
  });
  it('not started, complete, healthy: counts reset, the bake restart stays', () => {
    expect(decide({ plan, state: undefined, judgement: undefined, now: T0, mode: 'auto' }).counters).toEqual({ consecutiveCritical: 0, bakeRestart: undefined });
    expect(decide({ plan, state: { ...at10, completed: true }, judgement: undefined, now: T0, mode: 'auto' })).toEqual({ decision: { action: 'done', reason: 'the rollout is complete at 100%' }, counters: { consecutiveCritical: 0, bakeRestart: restart } });
    expect(decide({ plan, state: at10, judgement: judged('healthy'), now: T0 + 20 * MIN, mode: 'auto' }).counters).toEqual({ consecutiveCritical: 0, bakeRestart: restart });
  });
  it('a critical counts on from the state and rolls back at exactly failureLimit, in run only', () => {
    const auto = decide({ plan, state: at10, judgement: judged('critical'), now: T0 + 5 * MIN, mode: 'auto' });
    expect(auto).toEqual({ decision: { action: 'rollback', reason: 'x is bad (critical 2/2)' }, counters: { consecutiveCritical: 2, holdingSince: T0 + MIN, bakeRestart: { at: T0 + 5 * MIN, reason: 'x is bad' } } });
    expect(decide({ plan, state: at10, judgement: judged('critical'), now: T0 + 5 * MIN, mode: 'manual' }).decision).toEqual({ action: 'critical', reason: 'x is bad (critical 2/2)' });
    expect(decide({ plan, state: { ...at10, consecutiveCritical: 0, holdingSince: undefined }, judgement: judged('critical'), now: T0 + 5 * MIN, mode: 'auto' })).toMatchObject({
      decision: { action: 'critical' },
      counters: { consecutiveCritical: 1, holdingSince: T0 + 5 * MIN },
    });
  });
  it('a hold reaches maxHold at exactly maxHold, then rolls back under onMaxHold: rollback (run only)', () => {
    const state = { ...at10, holdingSince: T0 };
    expect(decide({ plan, state, judgement: judged('hold'), now: T0 + 60 * MIN - 1, mode: 'auto' }).decision).toEqual({ action: 'hold', reason: 'x is bad' });
    expect(decide({ plan, state, judgement: judged('hold'), now: T0 + 60 * MIN, mode: 'auto' }).decision).toEqual({ action: 'rollback', reason: 'held for 1h, over maxHold 1h: x is bad' });
    expect(decide({ plan, state, judgement: judged('hold'), now: T0 + 60 * MIN, mode: 'manual' }).decision.action).toBe('hold');
    expect(decide({ plan, state: { ...at10, holdingSince: undefined }, judgement: judged('hold'), now: T0 + 9 * MIN, mode: 'auto' }).counters).toEqual({ consecutiveCritical: 0, holdingSince: T0 + 9 * MIN, bakeRestart: { at: T0 + 9 * MIN, reason: 'x is bad' } });
  });
  it('healthy at the last stage after its bake completes, naming the bake', () => {
    const last: RolloutState = { ...at10, stageIndex: 1, percent: 100, bakeRestart: undefined };
    expect(decide({ plan, state: last, judgement: judged('healthy'), now: T0 + 90 * MIN, mode: 'auto' }).decision).toEqual({ action: 'complete', reason: '100% baked healthy for 1h 30m' });
    expect(decide({ plan, state: last, judgement: judged('healthy'), now: T0 + 90 * MIN - 1000, mode: 'auto' }).decision).toEqual({ action: 'hold', reason: 'baking: advance possible in 1s', retryInMs: 1000 });
  });
});

describe('decide says why in words', () => {
  const notStarted: RolloutState = { ...at10, stageIndex: -1, percent: 0, consecutiveCritical: 0, holdingSince: undefined, bakeRestart: undefined };
  const baked = { ...at10, consecutiveCritical: 0, holdingSince: undefined, bakeRestart: undefined };
  const two = ['a is bad', 'b is bad'];
  it('names the start, the advance and the completion with their percentages and bake', () => {
    expect(decide({ plan, state: notStarted, judgement: judged('healthy'), now: T0, mode: 'manual' }).decision.reason).toBe('start at 10%');
    expect(decide({ plan, state: baked, judgement: judged('healthy'), now: T0 + 11 * MIN, mode: 'manual' }).decision.reason).toBe('healthy and baked: advance to 100%');
    const top = { ...baked, stageIndex: 1, percent: 100 };
    expect(decide({ plan, state: top, judgement: judged('healthy'), now: T0 + 91 * MIN, mode: 'manual' }).decision.reason).toBe('100% baked healthy for 1h 30m');
  });
  it('joins several reasons with "; " in a warm-up, a critical and a hold', () => {
    expect(decide({ plan, state: baked, judgement: judged('hold', { reasons: two, warmingUp: true }), now: T0, mode: 'auto' }).decision.reason).toBe('a is bad; b is bad');
    expect(decide({ plan, state: baked, judgement: judged('critical', { reasons: two }), now: T0 + 2 * MIN, mode: 'auto' }).decision.reason).toMatch(/^a is bad; b is bad/);
    expect(decide({ plan, state: baked, judgement: judged('hold', { reasons: two }), now: T0 + 2 * MIN, mode: 'auto' }).decision.reason).toMatch(/a is bad; b is bad/);
  });
});
