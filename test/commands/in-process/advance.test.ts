/**
 * `rollout advance` in-process: every decision branch, with the target in memory, the fake clock
 * for bake times, the real file store and a real local metrics service.
 */
import { describe, expect, it } from 'vitest';
import { advanceCommand, type AdvanceOptions } from '../../../src/commands/advance.js';
import { holdCommand } from '../../../src/commands/hold.js';
import { resumeCommand } from '../../../src/commands/resume.js';
import { appliesTo, harnessPerTest, holdNextApply, storyOf } from '../../helpers/in-process.js';

const h = harnessPerTest();

const advance = (options: Partial<AdvanceOptions> = {}) => h.run(advanceCommand, { yes: true, ...options });

describe('advance', () => {
  it('starts unjudged, then advances when healthy and baked, completes, and then has nothing to do', async () => {
    const start = await advance();
    expect(start).toMatchObject({ exitCode: 0, stderr: '' });
    expect(start.stdout).toBe('advanced e2e: 0% → 10% (stage 1/3); bake 0ms, then `rollout advance` again\n');
    const next = await advance();
    expect(next.exitCode).toBe(0);
    expect(next.stdout).toMatch(/error_rate .*0\.1%.*ok/);
    expect(next.stdout).toContain('verdict: HEALTHY\nadvanced e2e: 10% → 50% (stage 2/3)');
    expect((await advance()).exitCode).toBe(0);
    const complete = await advance();
    expect(complete.stdout).toContain('complete: e2e is at 100% and baked healthy');
    const done = await advance();
    expect(done).toMatchObject({ exitCode: 0, stdout: 'e2e is already complete at 100%; nothing to do\n' });
    expect(appliesTo(h.target)).toEqual([10, 50, 100]);
    expect(storyOf(h.history())).toEqual(['start 0→10', 'advance 10→50', 'advance 50→100', 'complete 100→100']);
    expect(h.history()[0]).toMatchObject({ actor: 'alice', verdict: 'skipped', time: '2025-03-01T09:00:00.000Z' });
    expect(h.history()[1]?.metrics).toEqual({ error_rate: 0.001, p95_latency: 0.2 });
    expect(h.state()).toMatchObject({ completed: true, percent: 100 });
    expect(JSON.stringify(h.history()) + next.stdout).not.toContain('app-secret-token');
  });

  it('holds on a warning: exit 3 with the reason, nothing applied or recorded', async () => {
    await advance();
    h.service.metrics = { errorRate: 0.02, p95: 0.2 };
    const held = await advance();
    expect(held.exitCode).toBe(3);
    expect(held.stdout).toMatch(/verdict: HOLD\nheld: error_rate 2% breaches warning > 1%\n$/);
    expect(appliesTo(h.target)).toEqual([10]);
    expect(storyOf(h.history())).toEqual(['start 0→10']);
  });

  it('holds while baking and says when; once the bake is over it advances', async () => {
    h.writePlan({ bake: '10m' });
    await advance();
    h.clock.advance(4 * 60_000);
    const held = await advance({ json: true });
    expect(held.exitCode).toBe(3);
    expect(JSON.parse(held.stdout)).toMatchObject({ action: 'hold', dryRun: false, from: 10, to: 10, reason: 'baking: advance possible in 6m', verdict: 'healthy', exitCode: 3 });
    h.clock.advance(6 * 60_000);
    expect((await advance()).exitCode).toBe(0);
    expect(h.target.percent).toBe(50);
  });

  it('a critical verdict exits 4, applies nothing and names the rollback command', async () => {
    await advance();
    h.service.metrics = { errorRate: 0.09, p95: 0.2 };
    const critical = await advance();
    expect(critical.exitCode).toBe(4);
    expect(critical.stdout).toContain(`critical: not advancing — error_rate 9% breaches critical > 5% (critical 1/2)\nroll back with: rollout rollback ${h.planFile}`);
    expect(appliesTo(h.target)).toEqual([10]);
  });

  it('a metrics service that is down is no data: held (exit 3), never advanced', async () => {
    await advance();
    h.service.metrics = null;
    const held = await advance({ json: true });
    expect(held.exitCode).toBe(3);
    const doc = JSON.parse(held.stdout) as { verdict: string; readings: { status: string; reason: string }[] };
    expect(doc.verdict).toBe('hold');
    expect(doc.readings.map((r) => r.status)).toEqual(['nodata', 'nodata']);
    expect(doc.readings[0]?.reason).toMatch(/HTTP 503/);
    expect(appliesTo(h.target)).toEqual([10]);
  });

  it('refuses on drift (exit 5, recorded, target untouched); --adopt takes the target as the truth and goes on', async () => {
    await advance();
    h.target.percent = 30;
    const refused = await advance();
    expect(refused.exitCode).toBe(5);
    expect(refused.error?.message).toBe('drift: state says 10%, target says 30%');
    expect(refused.error?.hint).toContain('--adopt');
    expect(appliesTo(h.target)).toEqual([10]);
    expect(h.history().at(-1)).toMatchObject({ action: 'drift', from: 10, to: 30, reason: 'refused: state says 10%, target says 30%' });
    const adopted = await advance({ adopt: true });
    expect(adopted.exitCode).toBe(0);
    expect(adopted.stderr).toBe('drift adopted: state says 10%, target says 30%; state now says 30% (not a stage of the plan: the next advance goes to the first stage above it)\n');
    expect(appliesTo(h.target)).toEqual([10, 50]);
    expect(storyOf(h.history())).toEqual(['start 0→10', 'drift 10→30', 'drift 10→30', 'advance 30→50']);
  });

  it('a hold by hand pauses advancing until resumed', async () => {
    await advance();
    expect((await h.run(holdCommand, { reason: 'investigating p95' })).exitCode).toBe(0);
    const paused = await advance();
    expect(paused.exitCode).toBe(3);
    expect(paused.stdout).toBe('held: paused by alice: investigating p95 (resume with `rollout resume`)\n');
    expect((await h.run(resumeCommand)).exitCode).toBe(0);
    expect((await advance()).exitCode).toBe(0);
    expect(appliesTo(h.target)).toEqual([10, 50]);
  });

  it('--dry-run says what it would do and changes nothing', async () => {
    const wouldStart = await advance({ dryRun: true });
    expect(wouldStart).toMatchObject({ exitCode: 0, stdout: 'would advance e2e: 0% → 10% (stage 1/3)\n' });
    expect(appliesTo(h.target)).toEqual([]);
    expect(h.history()).toEqual([]);
    h.writePlan({ stages: '[100]' });
    await advance();
    const wouldComplete = await advance({ dryRun: true, json: true });
    expect(JSON.parse(wouldComplete.stdout)).toMatchObject({ action: 'complete', dryRun: true, from: 100, to: 100, exitCode: 0 });
    expect(h.state()?.completed).toBe(false);
  });

  it('--force needs --reason, then overrides a hold and is recorded as force', async () => {
    await advance();
    h.service.metrics = { errorRate: 0.02, p95: 0.2 };
    const unexplained = await advance({ force: true });
    expect(unexplained.exitCode).toBe(2);
    expect(unexplained.error?.message).toBe('--force needs --reason');
    const forced = await advance({ force: true, reason: 'known noisy alert' });
    expect(forced.exitCode).toBe(0);
    expect(h.history().at(-1)).toMatchObject({ action: 'force', from: 10, to: 50, reason: expect.stringContaining('known noisy alert') });
  });

  it('without --yes and without a terminal it is exit 2 naming the flag, and nothing changes', async () => {
    const r = await advance({ yes: false });
    expect(r.exitCode).toBe(2);
    expect(r.error?.hint).toContain('--yes');
    expect(appliesTo(h.target)).toEqual([]);
    expect(h.state()).toBeUndefined();
  });

  it('a target that fails to apply: exit 6, put back, state unchanged', async () => {
    await advance();
    h.target.failApply.add(50);
    const failed = await advance();
    expect(failed.exitCode).toBe(6);
    expect(failed.error?.message).toMatch(/applying 50% failed: apply 50 failed — the target was put back to 10%; state is unchanged/);
    expect(appliesTo(h.target)).toEqual([10, 50, 10]);
    expect(h.state()?.percent).toBe(10);
    expect(storyOf(h.history())).toEqual(['start 0→10']);
  });

  it('a slow target holds the lock: a second advance meanwhile exits 5 naming the holder', async () => {
    const slow = holdNextApply(h.target);
    const first = advance();
    await slow.started;
    const second = await h.run(advanceCommand, { yes: true }, { env: { ROLLOUT_ACTOR: 'bo' } });
    expect(second.exitCode).toBe(5);
    expect(second.error?.message).toMatch(/locked by alice \(pid \d+/);
    expect(h.target.percent).toBe(0);
    slow.release();
    expect((await first).exitCode).toBe(0);
    expect(appliesTo(h.target)).toEqual([10]);
    expect(storyOf(h.history())).toEqual(['start 0→10']);
  });
});
