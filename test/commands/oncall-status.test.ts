/**
 * `status` as on-call reads it (issue 17): after a rollback it says why, when, who and whether the
 * metrics recovered; `next` names a command that works; `--exit-code` agrees with `check` in
 * every state and exits 5 on drift; an interrupted `run` says how to carry on. The built CLI
 * against a real local flag API and metrics route.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { servicePlan, startFakeService, type FakeService } from '../helpers/fake-service.js';

const env = { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'ci-bot' };
let service: FakeService;
let dir: string;

const rollout = (...args: string[]) => runCli(args, { cwd: dir, env });
/** The command quoted in `next: …`, without its backquotes. */
const suggested = (stdout: string, verb: string): string[] => {
  const match = new RegExp(`\`(rollout ${verb}[^\`]*)\``).exec(stdout);
  if (!match?.[1]) throw new Error(`no \`rollout ${verb}\` suggested in:\n${stdout}`);
  return match[1].split(' ').slice(1);
};

beforeEach(async () => {
  service = await startFakeService();
  dir = mkdtempSync(join(tmpdir(), 'rollout-oncall-'));
  writeFileSync(join(dir, 'rollout.yaml'), servicePlan(service, { stages: '[10, 30, 100]', bake: '10m' }));
});
afterEach(async () => {
  await service.close();
});

describe('status after run rolled back', () => {
  it('says why, when, who and the recovery result; next is not a restart; --exit-code agrees with check', async () => {
    writeFileSync(join(dir, 'rollout.yaml'), servicePlan(service, { stages: '[10, 30, 100]', bake: '0s' }));
    service.metrics = { errorRate: 0.2, p95: 0.2 };
    const run = await rollout('run');
    expect(run.code).toBe(4);
    expect(service.percentage).toBe(0);

    const status = await rollout('status');
    expect(status.stdout).toMatch(/rolled back 10% → 0% by ci-bot, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d \(\d+s ago\): error_rate 20% breaches critical > 5%/);
    expect(status.stdout).toMatch(/recovery: metrics still critical after the rollback/);
    expect(status.stdout).toMatch(/next: metrics did NOT recover after the rollback: investigate now \(`rollout history`\)/);
    expect(status.stdout).not.toMatch(/next: start/);
    expect(JSON.parse((await rollout('status', '--json')).stdout)).toMatchObject({
      rolledBack: true,
      rollback: { action: 'rollback', by: 'ci-bot', from: 10, to: 0, recovered: false },
      verdict: 'critical',
    });
    const check = await rollout('check');
    expect(check.code).toBe(4);
    expect((await rollout('status', '--exit-code')).code).toBe(check.code);

    service.metrics = { errorRate: 0.02, p95: 0.2 };
    expect((await rollout('check')).code).toBe(3);
    expect((await rollout('status', '--exit-code')).code).toBe(3);
  });

  it('after a rollback whose metrics recovered, next says to investigate before advancing again', async () => {
    await rollout('advance', '--yes');
    await rollout('rollback', '--yes', '--reason', 'p95 regression', '--verify');
    const status = await rollout('status');
    expect(status.stdout).toMatch(/rolled back 10% → 0% by ci-bot, .*: p95 regression/);
    expect(status.stdout).toMatch(/recovery: metrics recovered after the rollback/);
    expect(status.stdout).toMatch(/next: investigate why it was rolled back \(`rollout history`\); once fixed, `rollout advance` starts again at 10%/);
  });
});

describe('status on a rollout not started whose target is already up', () => {
  it('shows the metrics, offers adoption with a command that works, and --exit-code exits 5', async () => {
    service.percentage = 30;
    const status = await rollout('status');
    expect(status.stdout).toMatch(/error_rate .*0\.1%/);
    expect(status.stdout).toMatch(/DRIFT: the rollout has not started, target says 30 ?%/);
    expect(status.stdout).toMatch(/next: adopt the rollout already at 30%: `rollout advance --adopt` takes it as stage 2\/3/);
    expect((await rollout('status', '--exit-code')).code).toBe(5);
    expect((await rollout('check')).code).toBe(0);

    const adopt = await rollout(...suggested(status.stdout, 'advance'), '--yes');
    expect(adopt.stderr).toMatch(/drift adopted/);
    expect(adopt.code).toBe(3);
    expect(JSON.parse((await rollout('status', '--json')).stdout)).toMatchObject({ stage: 2, percent: 30, target: { drift: false }, exitCode: 0 });
    expect(service.percentage).toBe(30);
  });

  it('drift on a started rollout: next adopts or rolls back, and names the plan path when it is not the default', async () => {
    writeFileSync(join(dir, 'other.yaml'), servicePlan(service, { stages: '[10, 30, 100]', bake: '10m' }));
    await rollout('advance', 'other.yaml', '--yes', '--state-dir', 'st');
    service.percentage = 30;
    const status = await rollout('status', 'other.yaml', '--state-dir', 'st');
    expect(status.stdout).toContain('next: drift: `rollout advance other.yaml --adopt --state-dir st` takes the target\'s 30% as stage 2/3, or `rollout rollback other.yaml --state-dir st` lowers it');
    expect((await rollout('status', 'other.yaml', '--state-dir', 'st', '--exit-code')).code).toBe(5);
  });

  it('a critical reading: next is the rollback command', async () => {
    await rollout('advance', '--yes');
    service.metrics = { errorRate: 0.2, p95: 0.2 };
    const status = await rollout('status', '--exit-code');
    expect(status.code).toBe(4);
    expect(status.stdout).toMatch(/next: roll back: `rollout rollback` \(error_rate 20% breaches critical > 5%/);
  });
});

describe('an interrupted run', () => {
  it('says where the target is and the two commands to continue or roll back', async () => {
    const run = startCli(['run'], { cwd: dir, env });
    await expect.poll(() => service.puts, { timeout: 15_000, interval: 20 }).toEqual([10]);
    run.child.kill('SIGINT');
    const r = await run.result;
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/the target is at 10% \(stage 1\/3\), as state records\. Continue with `rollout run`, or roll back with `rollout rollback`/);
  });
});
