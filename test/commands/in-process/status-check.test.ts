/** `rollout status` and `check` in-process: what they show and how they exit, changing nothing. */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { advanceCommand } from '../../../src/commands/advance.js';
import { checkCommand } from '../../../src/commands/check.js';
import { holdCommand } from '../../../src/commands/hold.js';
import { rollbackCommand } from '../../../src/commands/rollback.js';
import { statusCommand, type StatusOptions } from '../../../src/commands/status.js';
import { InterruptedError } from '../../../src/errors.js';
import { servicePlan } from '../../helpers/fake-service.js';
import { appliesTo, harnessPerTest } from '../../helpers/in-process.js';

const h = harnessPerTest({ bake: '10m' });

const status = (options: Partial<StatusOptions> = {}) => h.run(statusCommand, options);
const advance = () => h.run(advanceCommand, { yes: true });

describe('status', () => {
  it('before the start: not started, metrics judged (adoption needs them), the first stage as the next action', async () => {
    const r = await status();
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^e2e {2}not started\ntarget says 0%\n/);
    expect(r.stdout).toContain('verdict: HEALTHY\n');
    // `next` is a command that works as written: it names the plan the user gave.
    expect(r.stdout).toMatch(new RegExp(`\\nnext: start: \`rollout advance ${h.planFile}\` applies 10%\\n$`));
  });

  it('in a stage: time in stage and bake left by the clock, the metrics with limits, verdict and next action', async () => {
    await advance();
    h.clock.advance(4 * 60_000);
    h.service.metrics = { errorRate: 0.02, p95: 0.2 };
    const r = await status({ exitCode: true });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toMatch(/^e2e {2}stage 1\/3 at 10%\nin stage 4m, bake 6m left\ntarget says 10%\n/);
    expect(r.stdout).toMatch(/error_rate .*2%.*> 1%.*> 5%.*warning/);
    expect(r.stdout).toContain('verdict: HOLD — error_rate 2% breaches warning > 1%\nnext: hold: error_rate 2% breaches warning > 1%; follow it with `rollout status ');
    expect(appliesTo(h.target)).toEqual([10]);
    const json = JSON.parse((await status({ json: true })).stdout);
    expect(json).toMatchObject({ plan: 'e2e', stage: 1, stages: 3, percent: 10, timeInStageMs: 240_000, bakeLeftMs: 360_000, verdict: 'hold', target: { percent: 10, drift: false } });
  });

  it('healthy and baked: the next action is the advance; without --exit-code it exits 0 whatever the verdict', async () => {
    await advance();
    h.clock.advance(10 * 60_000);
    const healthy = await status({ exitCode: true });
    expect(healthy.exitCode).toBe(0);
    expect(healthy.stdout).toContain('bake done\n');
    expect(healthy.stdout).toContain(`next: advance possible now: \`rollout advance ${h.planFile}\` → 50%`);
    h.service.metrics = { errorRate: 0.09, p95: 0.2 };
    expect((await status()).exitCode).toBe(0);
    expect((await status({ exitCode: true })).exitCode).toBe(4);
  });

  it('shows a trend per metric from the history of judged events', async () => {
    h.writePlan({ bake: '0s', stages: '[10, 20, 30, 100]' });
    await advance();
    for (const errorRate of [0.001, 0.005]) {
      h.service.metrics = { errorRate, p95: 0.2 };
      await advance();
    }
    expect((await status()).stdout).toMatch(/error_rate .*│ ▁█ +│/);
  });

  it('names drift, a target it cannot read or read back, and a hold by hand', async () => {
    await advance();
    h.target.percent = 40;
    expect((await status()).stdout).toContain('\nDRIFT: state says 10%, target says 40%\n');
    h.target.failRead = true;
    const unreadable = await status();
    expect(unreadable.exitCode).toBe(0);
    expect(unreadable.stdout).toContain('\ntarget unreadable: read failed\n');
    // advance and rollback read the target first: only the emergency works while it is silent
    expect(unreadable.stdout).toMatch(/\nnext: the target does not answer: fix it, then `rollout status \S+` again; if the canary is failing, `rollout rollback \S+ --emergency`\n/);
    h.target.failRead = false;
    h.target.unreadable = true;
    expect((await status()).stdout).toContain('\ntarget: cannot be read back\n');
    h.target.unreadable = false;
    h.target.percent = 10;
    await h.run(holdCommand, { reason: 'lunch' });
    const paused = await status();
    expect(paused.stdout).toMatch(/^e2e {2}stage 1\/3 at 10% {2}PAUSED by alice: lunch\n/);
  });

  it('names a bake restarted by an unhealthy reading, a changed plan and an unfinished emergency, each with its next action', async () => {
    await advance();
    h.clock.advance(4 * 60_000);
    h.service.metrics = { errorRate: 0.02, p95: 0.2 };
    expect((await advance()).exitCode).toBe(3);
    h.clock.advance(60_000);
    h.service.metrics = { errorRate: 0.001, p95: 0.2 };
    const restarted = await status();
    expect(restarted.stdout).toMatch(/^e2e {2}stage 1\/3 at 10%\nin stage 5m, bake 9m left\nbake restarted 1m ago: error_rate 2% breaches warning > 1%\n/);
    expect(restarted.stdout).toContain(`\nnext: advance possible in 9m: then \`rollout advance ${h.planFile}\`\n`);
    h.writePlan({ stages: '[20, 100]' });
    const changed = await status();
    expect(changed.stdout).toMatch(/^e2e {2}at 10%\nPLAN CHANGED: the plan's stages changed from \[10, 50, 100\] to \[20, 100\]/);
    expect(changed.stdout).toContain(`\nnext: the plan changed: \`rollout advance ${h.planFile} --adopt\` carries on under the new stages, or \`rollout rollback ${h.planFile}\`\n`);
    h.writePlan({});
    h.target.failApply.add(0);
    expect((await h.run(rollbackCommand, { emergency: true })).exitCode).toBe(6);
    const fenced = await status();
    expect(fenced.stdout).toContain('\nEMERGENCY UNFINISHED: an emergency rollback (rollback --emergency by alice');
    expect(fenced.stdout).toMatch(/\nnext: finish the emergency: `rollout rollback .*--emergency`\n$/);
  });

  it('--watch redraws in place on a terminal every interval until interrupted', async () => {
    await advance();
    const controller = new AbortController();
    const ctx = h.context({ isTTY: true, signal: controller.signal });
    const sleep = h.clock.sleep.bind(h.clock);
    h.clock.sleep = async (ms, signal) => {
      if (h.clock.sleeps.length === 2) controller.abort(new InterruptedError('interrupted by SIGINT'));
      return sleep(ms, signal);
    };
    await expect(statusCommand({ plan: h.planFile, json: false, watch: true, interval: '30s' }, ctx)).rejects.toThrow('interrupted by SIGINT');
    expect(h.clock.sleeps).toEqual([30_000, 30_000]);
    // One write per refresh: each erases exactly the rows the one before took (its lines and the cursor's row).
    const screens = ctx.out.stdout;
    expect(screens).toHaveLength(3);
    expect(screens.map((s) => /in stage (\S+),/.exec(s)?.[1])).toEqual(['0ms', '30s', '1m']);
    for (const [i, screen] of screens.entries()) {
      const erased = screen.split('\x1b[2K').length - 1;
      expect(erased).toBe(i === 0 ? 0 : screens[i - 1]!.replace(/^(\x1b\[(2K|1A|G))+/, '').split('\n').length);
    }
  });
});

describe('check', () => {
  it('judges once and changes nothing: 0 healthy, 3 hold, 4 critical', async () => {
    await advance();
    const healthy = await h.run(checkCommand);
    expect(healthy.exitCode).toBe(0);
    expect(healthy.stdout).toMatch(/verdict: HEALTHY\n$/);
    h.service.metrics = { errorRate: 0.02, p95: 0.2 };
    expect((await h.run(checkCommand)).stdout).toMatch(/verdict: HOLD — error_rate 2% breaches warning > 1%\n$/);
    h.service.metrics = { errorRate: 0.2, p95: 4 };
    const critical = await h.run(checkCommand, { json: true });
    expect(critical.exitCode).toBe(4);
    expect(JSON.parse(critical.stdout)).toMatchObject({ plan: 'e2e', verdict: 'critical', exitCode: 4, inWarmup: false });
    expect(appliesTo(h.target)).toEqual([10]);
    expect(h.history()).toHaveLength(1);
  });

  it('a plan without metrics says so, and is healthy', async () => {
    writeFileSync(h.planFile, servicePlan(h.service).replace(/metrics:\n(  - .*\n)+/, ''));
    const r = await h.run(checkCommand);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'this plan has no metrics to judge\nverdict: HEALTHY\n' });
  });
});
