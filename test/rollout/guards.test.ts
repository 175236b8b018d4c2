/** What must hold between plan and state before anything acts (src/rollout/guards.ts). */
import { describe, expect, it } from 'vitest';
import { planMismatch, unfinishedEmergency } from '../../src/rollout/guards.js';
import { enterStage, notStarted } from '../../src/state/transitions.js';
import { planFromYaml } from '../helpers/plan.js';

const five = await planFromYaml('version: 1\nname: g\nstages: [10, 25, 50, 75, 100]\ntarget: { type: command, set: [echo] }\n');
const three = await planFromYaml('version: 1\nname: g\nstages: [10, 50, 100]\ntarget: { type: command, set: [echo] }\n');

describe('planMismatch', () => {
  it('accepts state written under the same stages, and any state not yet started', () => {
    expect(planMismatch(five, undefined)).toBeUndefined();
    expect(planMismatch(five, enterStage(five, notStarted(five), 3, 0))).toBeUndefined();
    expect(planMismatch(three, notStarted(five))).toBeUndefined();
    expect(planMismatch(three, { ...enterStage(five, notStarted(five), 3, 0), stageIndex: -1, percent: 0 })).toBeUndefined();
  });

  it('names a change of stages under a started rollout, a completed one too', () => {
    const at75 = enterStage(five, notStarted(five), 3, 0);
    expect(planMismatch(three, at75)).toBe("the plan's stages changed from [10, 25, 50, 75, 100] to [10, 50, 100] while the rollout was at 75%");
    expect(planMismatch(three, { ...enterStage(five, notStarted(five), 4, 0), completed: true })).toMatch(/stages changed/);
    expect(planMismatch(five, { ...at75, stages: [10, 25, 50, 80, 100] })).toMatch(/stages changed/);
    // A plan that only grew a stage at the end changed too.
    expect(planMismatch(five, { ...enterStage(three, notStarted(three), 1, 0), stages: [10, 25, 50, 75] })).toMatch(/stages changed from \[10, 25, 50, 75\] to \[10, 25, 50, 75, 100\]/);
  });

  it('refuses a stage index the plan does not have', async () => {
    const at10 = enterStage(five, notStarted(five), 0, 0);
    expect(planMismatch(five, { ...at10, stageIndex: 5 })).toBe('state is at stage 6 (10%), but the plan has 5 stages [10, 25, 50, 75, 100]');
    expect(planMismatch(five, { ...at10, stageIndex: -2 })).toMatch(/stage -1/);
    expect(planMismatch(five, { ...at10, stageIndex: 1.5 })).toMatch(/plan has 5 stages/);
    const one = await planFromYaml('version: 1\nname: g\nstages: [100]\ntarget: { type: command, set: [echo] }\n');
    expect(planMismatch(one, { ...enterStage(one, notStarted(one), 0, 0), stageIndex: 2 })).toBe('state is at stage 3 (100%), but the plan has 1 stage [100]');
  });

  it('for state without recorded stages, the percentage must sit at its stage or between it and the next', () => {
    const legacy = { ...enterStage(five, notStarted(five), 3, 0), stages: undefined };
    expect(planMismatch(five, legacy)).toBeUndefined();
    expect(planMismatch(five, { ...legacy, percent: 80 })).toBeUndefined();
    expect(planMismatch(five, { ...legacy, percent: 100 })).toBe('state says stage 4 at 100%, but stage 4 of the plan is 75% [10, 25, 50, 75, 100]');
    expect(planMismatch(three, legacy)).toMatch(/plan has 3 stages/);
    expect(planMismatch(three, { ...legacy, stageIndex: 1, percent: 75 })).toBeUndefined();
    expect(planMismatch(three, { ...legacy, stageIndex: 1, percent: 40 })).toMatch(/stage 2 of the plan is 50%/);
  });
});

describe('unfinishedEmergency', () => {
  it('names the fence an emergency left, with who and how long ago', () => {
    expect(unfinishedEmergency(undefined, 0)).toBeUndefined();
    expect(unfinishedEmergency(notStarted(five), 0)).toBeUndefined();
    const fenced = { ...notStarted(five), emergency: { by: 'oncall', at: 1000, command: 'rollback --emergency' } };
    expect(unfinishedEmergency(fenced, 61_000)).toBe('an emergency rollback (rollback --emergency by oncall, 1m ago) took this rollout over and did not record 0%');
  });
});
