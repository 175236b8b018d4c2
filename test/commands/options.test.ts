/**
 * Options of the operator commands, end to end: the built CLI against a real local flag API and
 * metrics route, state on the file store. --force never over a critical, --dry-run, --state-dir,
 * prompts without a terminal, `status --exit-code` on a critical, `resume` with nothing to resume.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { servicePlan } from '../helpers/fake-service.js';
import { useServiceRollout } from '../helpers/service-rollout.js';

const world = useServiceRollout('options', { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'alice' }, (service) => servicePlan(service));
const rollout = (...args: string[]) => world.rollout(args);
const CRITICAL = { errorRate: 0.09, p95: 0.2 };

describe('advance --force', () => {
  it('never overrides a critical reading: exit 4, nothing applied, nothing recorded', async () => {
    expect((await rollout('advance', '--yes')).code).toBe(0);
    world.service.metrics = CRITICAL;
    const r = await rollout('advance', '--yes', '--force', '--reason', 'ship it anyway');
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/critical: not advancing — error_rate 9% breaches critical > 5%/);
    expect(world.service.puts).toEqual([10]);
    expect(world.moves()).toEqual(['start 0→10']);
  });
});

describe('advance --dry-run', () => {
  it('says what it would apply and changes nothing: no PUT, no state, no history', async () => {
    const first = await rollout('advance', '--dry-run');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('would advance e2e: 0% → 10% (stage 1/5)');
    expect(existsSync(join(world.dir, '.rollout', 'e2e.json'))).toBe(false);

    expect((await rollout('advance', '--yes')).code).toBe(0);
    const r = await rollout('advance', '--dry-run', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ action: 'advance', dryRun: true, from: 10, to: 25, verdict: 'healthy' });
    expect(world.service.puts).toEqual([10]);
    expect(world.moves()).toEqual(['start 0→10']);
    expect(world.state()).toMatchObject({ percent: 10, version: 1 });
  });
});

describe('--state-dir', () => {
  it('advance, status and run keep state and history there, and read them back from there', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'rollout-state-dir-'));
    expect((await rollout('advance', '--yes', '--state-dir', stateDir)).code).toBe(0);
    expect(world.state(stateDir)).toMatchObject({ percent: 10, stageIndex: 0 });
    expect(existsSync(join(world.dir, '.rollout'))).toBe(false);

    const status = await rollout('status', '--json', '--state-dir', stateDir);
    expect(JSON.parse(status.stdout)).toMatchObject({ stage: 1, percent: 10, target: { percent: 10, drift: false } });
    // Without it, status looks beside the plan, finds nothing and sees the target as drifted.
    expect(JSON.parse((await rollout('status', '--json')).stdout)).toMatchObject({ stage: null, target: { percent: 10, drift: true } });

    const run = await rollout('run', '--until', '25', '--state-dir', stateDir);
    expect(run.code, run.stderr).toBe(0);
    expect(world.service.puts).toEqual([10, 25]);
    expect(world.moves(stateDir)).toEqual(['start 0→10', 'advance 10→25']);
    expect(existsSync(join(world.dir, '.rollout'))).toBe(false);
  });
});

describe('prompts without a terminal', () => {
  it('with CI unset and stdin not a terminal, a confirmation is an error naming --yes, and nothing changes', async () => {
    const ask = async (args: string[]) => {
      const r = await world.rollout(args, { CI: undefined });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/cannot ask without a terminal/);
      expect(r.stderr).toMatch(/hint: pass --yes to confirm non-interactively/);
    };
    await ask(['advance']);
    expect(world.service.server.requests.filter((q) => q.method === 'PUT')).toEqual([]);
    expect(existsSync(join(world.dir, '.rollout', 'e2e.history.jsonl'))).toBe(false);
    // A rollback asks only when there is something to roll back.
    expect((await world.rollout(['advance', '--yes'])).code).toBe(0);
    const puts = world.service.server.requests.filter((q) => q.method === 'PUT').length;
    await ask(['rollback']);
    expect(world.service.server.requests.filter((q) => q.method === 'PUT')).toHaveLength(puts);
    expect(world.service.percentage).toBe(10);
  });
});

describe('status --exit-code', () => {
  it('exits 4 on a critical verdict, like check, and 0 without --exit-code', async () => {
    expect((await rollout('advance', '--yes')).code).toBe(0);
    world.service.metrics = CRITICAL;
    const r = await rollout('status', '--exit-code');
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/verdict: CRITICAL — error_rate 9% breaches critical > 5%/);
    expect((await rollout('status')).code).toBe(0);
    expect((await rollout('check')).code).toBe(4);
  });
});

describe('resume', () => {
  it('when not paused: says so, exits 0 and records nothing', async () => {
    expect((await rollout('advance', '--yes')).code).toBe(0);
    const r = await rollout('resume');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('e2e is not paused; nothing to resume');
    expect(JSON.parse((await rollout('resume', '--json')).stdout)).toMatchObject({ kind: 'resume', action: 'none', reason: 'not paused' });
    expect(world.moves()).toEqual(['start 0→10']);
    expect(world.state()).toMatchObject({ version: 1 });
  });
});
