/** `rollout hold`, `resume` and `rollback` in-process: memory target, fake clock, real file store. */
import { describe, expect, it } from 'vitest';
import { advanceCommand } from '../../../src/commands/advance.js';
import { holdCommand } from '../../../src/commands/hold.js';
import { resumeCommand } from '../../../src/commands/resume.js';
import { rollbackCommand, type RollbackOptions } from '../../../src/commands/rollback.js';
import { appliesTo, harnessPerTest, storyOf } from '../../helpers/in-process.js';

const h = harnessPerTest();

const advanceTimes = async (n: number) => {
  for (let i = 0; i < n; i++) expect((await h.run(advanceCommand, { yes: true })).exitCode).toBe(0);
};
const rollback = (options: Partial<RollbackOptions> = {}) => h.run(rollbackCommand, { yes: true, ...options });

describe('hold and resume', () => {
  it('hold needs --reason (exit 2, nothing recorded)', async () => {
    const r = await h.run(holdCommand);
    expect(r.exitCode).toBe(2);
    expect(r.error?.hint).toContain('--reason');
    expect(h.history()).toEqual([]);
  });

  it('hold records who and why, keeps the percentage, and says how to resume', async () => {
    await advanceTimes(1);
    h.clock.advance(5_000);
    const held = await h.run(holdCommand, { reason: 'lunch' });
    expect(held).toMatchObject({ exitCode: 0, stdout: `e2e held at 10% by alice: lunch\nresume with: rollout resume ${h.planFile}\n` });
    expect(h.state()?.paused).toEqual({ reason: 'lunch', by: 'alice', at: Date.parse('2025-03-01T09:00:05Z') });
    expect(appliesTo(h.target)).toEqual([10]);
    const json = await h.run(resumeCommand, { json: true });
    expect(JSON.parse(json.stdout)).toEqual({ schemaVersion: 1, kind: 'resume', plan: 'e2e', action: 'resume', askedRun: false, percent: 10, stage: 1, reason: null });
    expect(h.state()?.paused).toBeUndefined();
    expect(h.history().at(-1)).toMatchObject({ action: 'resume', reason: 'lifts the hold by alice: lunch' });
  });

  it('resume when not paused is a no-op (exit 0, nothing recorded)', async () => {
    await advanceTimes(1);
    const r = await h.run(resumeCommand);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'e2e is not paused; nothing to resume\n' });
    expect(storyOf(h.history())).toEqual(['start 0→10']);
  });
});

describe('rollback', () => {
  it('goes to rollback.to, recorded with the reason; the next advance starts over', async () => {
    await advanceTimes(2);
    const r = await rollback({ reason: 'customer reports' });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'rolled back e2e: 50% → 0%\n' });
    expect(h.target.percent).toBe(0);
    expect(h.history().at(-1)).toMatchObject({ action: 'rollback', from: 50, to: 0, reason: 'customer reports', actor: 'alice' });
    expect(h.state()).toMatchObject({ rolledBack: true, percent: 0 });
    await advanceTimes(1);
    expect(h.target.percent).toBe(10);
  });

  it('at 0 % with the target reading 0: nothing to roll back, no question, nothing recorded; an unreadable target is set to 0 anyway', async () => {
    await advanceTimes(1);
    await rollback({});
    const events = h.history().length;
    const again = await h.run(rollbackCommand, {});
    expect(again).toMatchObject({ exitCode: 0, stdout: 'e2e is already at 0%: nothing to roll back\n' });
    expect(h.history()).toHaveLength(events);
    h.target.unreadable = true;
    expect((await rollback({})).stdout).toBe('rolled back e2e: 0% → 0%\n');
    expect(appliesTo(h.target)).toEqual([10, 0, 0]);
  });

  it('--to previous goes one stage back; --to a non-percentage is exit 2 and changes nothing', async () => {
    await advanceTimes(2);
    expect((await rollback({ to: 'previous' })).exitCode).toBe(0);
    expect(h.target.percent).toBe(10);
    const bad = await rollback({ to: '250' });
    expect(bad.exitCode).toBe(2);
    expect(bad.error?.message).toBe('--to 250 is not a percentage');
    expect(appliesTo(h.target)).toEqual([10, 50, 10]);
  });

  it('without --yes and without a terminal: exit 2, nothing changed', async () => {
    await advanceTimes(1);
    const r = await rollback({ yes: false });
    expect(r.exitCode).toBe(2);
    expect(r.error?.hint).toContain('--yes');
    expect(h.target.percent).toBe(10);
  });

  it('on drift, rolls back from what the target says, with a warning', async () => {
    await advanceTimes(1);
    h.target.percent = 40;
    const r = await rollback();
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe("warning: drift: state says 10%, target says 40%; rolling back from the target's 40%\n");
    expect(h.history().at(-1)).toMatchObject({ action: 'rollback', from: 40, to: 0 });
    expect(h.target.percent).toBe(0);
  });

  it('--emergency sets 0 %, runs the emergency actions and records it, with the metrics service down', async () => {
    await advanceTimes(2);
    h.service.metrics = null;
    const requestsBefore = h.service.server.requests.length;
    const r = await h.run(rollbackCommand, { emergency: true });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'EMERGENCY ROLLBACK e2e: 50% → 0%; the target reads 0%\n' });
    expect(h.target.percent).toBe(0);
    expect(h.target.calls.filter((c) => c === 'emergency').length).toBe(1);
    expect(h.service.server.requests.length).toBe(requestsBefore);
    expect(h.history().at(-1)).toMatchObject({ action: 'emergency-rollback', from: 50, to: 0, verdict: 'skipped' });
  });

  it('--emergency with a failing target: exit 6, the attempt recorded, state not claiming 0 %', async () => {
    await advanceTimes(1);
    h.target.failApply.add(0);
    const r = await h.run(rollbackCommand, { emergency: true });
    expect(r.exitCode).toBe(6);
    expect(r.error?.message).toMatch(/could not set the target to 0%/);
    expect(h.target.calls.filter((c) => c === 'emergency').length).toBe(1);
    expect(h.history().at(-1)).toMatchObject({ action: 'emergency-rollback', reason: expect.stringContaining('target FAILED') });
    expect(h.state()?.percent).toBe(10);
  });

  it('--emergency whose target reaches 0 but whose emergency actions fail: exit 6 saying the target is at 0 and what to run by hand', async () => {
    await advanceTimes(1);
    h.target.failEmergency = true;
    const r = await h.run(rollbackCommand, { emergency: true });
    expect(r.exitCode).toBe(6);
    expect(r.error?.message).toBe('emergency rollback of e2e: the target is at 0%, but its emergency actions failed: emergency actions: emergency action failed');
    expect(r.error).toMatchObject({ hint: expect.stringContaining("run the plan's target.emergency actions by hand now") });
    expect(h.target.percent).toBe(0);
  });
});
