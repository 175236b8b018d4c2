import { describe, expect, it } from 'vitest';
import { bakeLeftMs, decide, inWarmup, type DecideInput } from '../../src/analysis/decide.js';
import type { Judgement, Verdict } from '../../src/analysis/judge.js';
import type { RolloutState } from '../../src/state/types.js';
import { planFromYaml } from '../helpers/plan.js';

const plan = await planFromYaml(`
version: 1
name: decided
stages: [{ percent: 10, bake: 10m }, { percent: 50, bake: 10m }, { percent: 100, bake: 1h, approval: true }]
analysis: { failureLimit: 2, maxHold: 1h, warmup: 1m }
target: { type: command, set: [echo] }
`);
const MIN = 60_000;
const T0 = 1_700_000_000_000;

const state = (over: Partial<RolloutState> = {}): RolloutState => ({
  plan: 'decided', stageIndex: 0, percent: 10, enteredAt: T0, consecutiveCritical: 0, completed: false, rolledBack: false, version: 1, ...over,
});
const judged = (verdict: Verdict, reasons: string[] = verdict === 'healthy' ? [] : ['x breaches warning']): Judgement => ({ verdict, readings: [], reasons, warmingUp: false, readingsVerdict: verdict });
const run = (over: Partial<DecideInput>) => decide({ plan, state: state(), judgement: judged('healthy'), now: T0 + 11 * MIN, mode: 'manual', ...over });

describe('decide', () => {
  it('starts at the first stage when not started, without a judgement', () => {
    expect(run({ state: undefined, judgement: undefined }).decision).toMatchObject({ action: 'start', toStage: 0 });
    expect(run({ state: state({ stageIndex: -1, percent: 0, rolledBack: true }) }).decision.action).toBe('start');
  });

  it('advances when healthy and baked', () => {
    expect(run({}).decision).toMatchObject({ action: 'advance', toStage: 1 });
  });

  it('holds while baking and says when advancing becomes possible', () => {
    const { decision } = run({ now: T0 + 4 * MIN });
    expect(decision).toMatchObject({ action: 'hold', retryInMs: 6 * MIN });
    expect(decision.reason).toBe('baking: advance possible in 6m');
  });

  it('holds on a hold verdict with its reasons, starting the hold clock', () => {
    const { decision, counters } = run({ judgement: judged('hold', ['p95 7s breaches warning > 5s']) });
    expect(decision).toEqual({ action: 'hold', reason: 'p95 7s breaches warning > 5s' });
    expect(counters).toEqual({ consecutiveCritical: 0, bakeRestart: { at: T0 + 11 * MIN, reason: 'p95 7s breaches warning > 5s' }, holdingSince: T0 + 11 * MIN });
  });

  it('manual mode reports critical and never rolls back by itself', () => {
    const { decision, counters } = run({ state: state({ consecutiveCritical: 5 }), judgement: judged('critical', ['e 9% breaches critical > 5%']) });
    expect(decision.action).toBe('critical');
    expect(counters.consecutiveCritical).toBe(6);
  });

  it('auto mode rolls back at failureLimit consecutive criticals, not before', () => {
    const first = run({ mode: 'auto', judgement: judged('critical') });
    expect(first.decision.action).toBe('critical');
    expect(first.counters.consecutiveCritical).toBe(1);
    const second = run({ mode: 'auto', state: state({ consecutiveCritical: 1 }), judgement: judged('critical') });
    expect(second.decision.action).toBe('rollback');
    expect(second.decision.reason).toMatch(/critical 2\/2/);
  });

  it('a healthy poll resets the critical count', () => {
    expect(run({ mode: 'auto', state: state({ consecutiveCritical: 1 }) }).counters.consecutiveCritical).toBe(0);
  });

  it('a warning poll resets the critical count too: only consecutive criticals count', () => {
    for (const mode of ['auto', 'manual'] as const) {
      const { decision, counters } = run({ mode, state: state({ consecutiveCritical: 1 }), judgement: judged('hold') });
      expect(decision.action).toBe('hold');
      expect(counters.consecutiveCritical).toBe(0);
    }
  });

  it('auto mode enforces maxHold: fail, or rollback when configured', () => {
    const held = state({ holdingSince: T0 });
    expect(run({ mode: 'auto', state: held, judgement: judged('hold'), now: T0 + 61 * MIN }).decision.action).toBe('fail');
    const rollbackPlan = { ...plan, analysis: { ...plan.analysis, onMaxHold: 'rollback' as const } };
    expect(run({ plan: rollbackPlan, mode: 'auto', state: held, judgement: judged('hold'), now: T0 + 61 * MIN }).decision.action).toBe('rollback');
    expect(run({ mode: 'auto', state: held, judgement: judged('hold'), now: T0 + 59 * MIN }).decision.action).toBe('hold');
  });

  it('auto mode waits for approval before an approval stage; manual advances', () => {
    const at50 = state({ stageIndex: 1, percent: 50 });
    expect(run({ mode: 'auto', state: at50 }).decision).toMatchObject({ action: 'wait-approval', toStage: 2 });
    expect(run({ mode: 'manual', state: at50 }).decision).toMatchObject({ action: 'advance', toStage: 2 });
  });

  it('completes after the last stage has baked, and is done after that', () => {
    expect(run({ state: state({ stageIndex: 2, percent: 100 }), now: T0 + 61 * MIN }).decision.action).toBe('complete');
    expect(run({ state: state({ stageIndex: 2, percent: 100 }), now: T0 + 30 * MIN }).decision.action).toBe('hold');
    expect(run({ state: state({ stageIndex: 2, percent: 100, completed: true }) }).decision.action).toBe('done');
  });

  it('a paused rollout holds and says who paused it', () => {
    const { decision } = run({ state: state({ paused: { reason: 'investigating', by: 'ana', at: T0 } }) });
    expect(decision.action).toBe('hold');
    expect(decision.reason).toMatch(/paused by ana: investigating/);
  });
});

describe('timers', () => {
  it('bakeLeftMs and inWarmup follow the stage entry time', () => {
    expect(bakeLeftMs(plan, state(), T0 + 3 * MIN)).toBe(7 * MIN);
    expect(bakeLeftMs(plan, state(), T0 + 30 * MIN)).toBe(0);
    expect(bakeLeftMs(plan, undefined, T0)).toBe(0);
    expect(inWarmup(plan, state(), T0 + 30_000)).toBe(true);
    expect(inWarmup(plan, state(), T0 + 61_000)).toBe(false);
  });
});
