/** Every state change is a pure function with the one version bump (src/state/transitions.ts). */
import { describe, expect, it } from 'vitest';
import {
  adoptTarget,
  completeRollout,
  enterStage,
  keepCounters,
  notStarted,
  pauseRollout,
  recordAttempt,
  resumeRollout,
  rollbackDestination,
  rolledBack,
  stagesOf,
} from '../../src/state/transitions.js';
import type { RolloutState } from '../../src/state/types.js';
import { planFromYaml } from '../helpers/plan.js';

const plan = await planFromYaml('version: 1\nname: moves\nstages: [10, 25, 50, 100]\ntarget: { type: command, set: [echo] }\n');
const busy: RolloutState = {
  ...notStarted(plan),
  stageIndex: 1,
  percent: 25,
  enteredAt: 100,
  version: 7,
  consecutiveCritical: 1,
  holdingSince: 150,
  bakeRestart: { at: 160, reason: 'x' },
  paused: { reason: 'p', by: 'me', at: 170 },
  emergency: { by: 'oncall', at: 180, command: 'rollback --emergency' },
};

describe('transitions', () => {
  it('start from nothing at version 0 and stage -1', () => {
    expect(notStarted(plan)).toEqual({ plan: 'moves', stageIndex: -1, percent: 0, enteredAt: 0, consecutiveCritical: 0, completed: false, rolledBack: false, version: 0 });
  });

  it('enter a stage afresh: new version, no counters, pause, hold, bake restart or fence; the stages and the plan record noted', () => {
    expect(enterStage(plan, busy, 2, 999)).toEqual({
      plan: 'moves', stageIndex: 2, percent: 50, enteredAt: 999, consecutiveCritical: 0, completed: false, rolledBack: false, version: 8, stages: [10, 25, 50, 100],
      planRecord: { file: '/tmp/plan.yaml', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), target: { type: 'command', set: ['echo'] } },
    });
    expect(() => enterStage(plan, busy, 4, 0)).toThrow('no stage 4');
  });

  it('roll back like entering a position, marked rolled back', () => {
    expect(rolledBack(plan, busy, { stageIndex: -1, percent: 0 }, 999)).toMatchObject({ stageIndex: -1, percent: 0, rolledBack: true, version: 8, consecutiveCritical: 0, enteredAt: 999 });
    expect(rolledBack(plan, busy, { stageIndex: -1, percent: 0 }, 999).emergency).toBeUndefined();
  });

  it('complete, pause, resume, keep counters and record an attempt each bump the version once', () => {
    expect(completeRollout(busy)).toMatchObject({ completed: true, consecutiveCritical: 0, holdingSince: undefined, version: 8 });
    expect(pauseRollout({ ...busy, paused: undefined }, { reason: 'r', by: 'b', at: 1 })).toMatchObject({ paused: { reason: 'r', by: 'b', at: 1 }, version: 8 });
    const resumed = resumeRollout(busy);
    expect(resumed.paused).toBeUndefined();
    expect(resumed).toMatchObject({ holdingSince: undefined, version: 8, percent: 25 });
    expect(keepCounters(busy, { consecutiveCritical: 2, holdingSince: undefined, bakeRestart: { at: 200, reason: 'y' } })).toMatchObject({
      consecutiveCritical: 2, holdingSince: undefined, bakeRestart: { at: 200, reason: 'y' }, version: 8,
    });
    expect(recordAttempt(busy)).toEqual({ ...busy, version: 8 });
  });

  it('adopt a target at a stage, or between stages as the stage below; counters and restarts cleared, pause kept', () => {
    expect(adoptTarget(plan, busy, 50, 500)).toMatchObject({ stageIndex: 2, percent: 50, enteredAt: 500, consecutiveCritical: 0, completed: false, version: 8, stages: [10, 25, 50, 100] });
    const between = adoptTarget(plan, busy, 30, 500);
    expect(between).toMatchObject({ stageIndex: 1, percent: 30 });
    expect(between.bakeRestart).toBeUndefined();
    expect(between.holdingSince).toBeUndefined();
    expect(between.paused).toEqual(busy.paused);
    expect(adoptTarget(plan, busy, 5, 500)).toMatchObject({ stageIndex: -1, percent: 5 });
    expect(adoptTarget(plan, busy, 10, 500)).toMatchObject({ stageIndex: 0, percent: 10 });
  });

  it('a rollback only lowers: previous is the highest stage below, a stage at or above becomes 0', () => {
    expect(rollbackDestination(plan, 'previous', 50)).toEqual({ stageIndex: 1, percent: 25 });
    expect(rollbackDestination(plan, 'previous', 30)).toEqual({ stageIndex: 1, percent: 25 });
    expect(rollbackDestination(plan, 'previous', 10)).toEqual({ stageIndex: -1, percent: 0 });
    expect(rollbackDestination(plan, 25, 50)).toEqual({ stageIndex: 1, percent: 25 });
    expect(rollbackDestination(plan, 25, 25)).toEqual({ stageIndex: -1, percent: 0 });
    expect(rollbackDestination(plan, 100, 10)).toEqual({ stageIndex: -1, percent: 0 });
    expect(rollbackDestination(plan, 0, 50)).toEqual({ stageIndex: -1, percent: 0 });
    expect(rollbackDestination(plan, 33, 50)).toEqual({ stageIndex: -1, percent: 0 });
  });

  it('stagesOf lists the percentages', () => {
    expect(stagesOf(plan)).toEqual([10, 25, 50, 100]);
  });
});
