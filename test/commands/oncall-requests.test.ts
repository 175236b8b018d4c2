/**
 * Reaching a running `run` (issue 17): `hold`, `resume`, `advance` and `rollback` from another
 * process, while the run holds the lock, post a request the run acts on itself and answers,
 * recorded with the requester as actor. The built CLI against a real local flag API and metrics
 * route; state in files and in a real PostgreSQL.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/state/types.js';
import { runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { servicePlan, startFakeService, type FakeService } from '../helpers/fake-service.js';
import { expectDocument } from '../helpers/json-contract.js';
import { usePostgresRollout } from '../helpers/postgres-rollout.js';

const ci = { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'ci-bot' };
const alice = { ...ci, ROLLOUT_ACTOR: 'alice' };

/** Starts `rollout run` and resolves once the flag is at `percent`. */
async function runUntil(service: FakeService, dir: string, args: string[], percent: number, env: NodeJS.ProcessEnv = ci): Promise<RunningCli> {
  const run = startCli(['run', ...args], { cwd: dir, env });
  await expect.poll(() => service.percentage, { timeout: 15_000, interval: 20 }).toBe(percent);
  return run;
}

describe('file state', () => {
  let service: FakeService;
  let dir: string;
  const history = (): HistoryEvent[] => readFileSync(join(dir, '.rollout', 'e2e.history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as HistoryEvent);
  const writePlan = (options: Parameters<typeof servicePlan>[1]) => writeFileSync(join(dir, 'rollout.yaml'), servicePlan(service, options));

  beforeEach(async () => {
    service = await startFakeService();
    dir = mkdtempSync(join(tmpdir(), 'rollout-requests-'));
  });
  afterEach(async () => {
    await service.close();
  });

  it('a run in progress is paused by `rollout hold` from another process, waits, and goes on after `rollout resume`', { timeout: 60_000 }, async () => {
    writePlan({ stages: '[10, 50, 100]', bake: '4s' });
    const run = await runUntil(service, dir, [], 10);
    const hold = await runCli(['hold', '--reason', 'p95 spike on checkout'], { cwd: dir, env: alice });
    expect(hold.stderr).toMatch(/e2e is being run by ci-bot \(pid \d+ on .*\); asked the run to hold/);
    expect(hold.stdout).toMatch(/the run paused e2e at 10%; it waits for `rollout resume`/);
    expect(hold.code).toBe(0);
    expect(history().at(-1)).toMatchObject({ action: 'hold', actor: 'alice', reason: expect.stringContaining('p95 spike on checkout') });

    // Well past the bake: a paused run neither advances nor ends.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(service.puts).toEqual([10]);
    expect(run.child.exitCode).toBeNull();
    expect(JSON.parse((await runCli(['status', '--json'], { cwd: dir, env: alice })).stdout)).toMatchObject({ paused: { by: 'alice', reason: 'p95 spike on checkout' } });

    const resume = await runCli(['resume'], { cwd: dir, env: alice });
    expect(resume.stdout).toMatch(/the run resumed e2e at 10%/);
    expect(resume.code).toBe(0);
    const r = await run.result;
    expect(r.code).toBe(0);
    expect(service.puts).toEqual([10, 50, 100]);
    const moves = history().filter((e) => e.action !== 'hold' || e.actor === 'alice').map((e) => `${e.action} ${e.actor}`);
    expect(moves).toEqual(['start ci-bot', 'hold alice', 'resume alice', 'advance ci-bot', 'advance ci-bot', 'complete ci-bot']);
  });

  it('`rollout rollback` asks the run, which rolls back as the requester and ends with exit 4', async () => {
    writePlan({ stages: '[10, 50, 100]', bake: '10m' });
    const run = await runUntil(service, dir, [], 10);
    const rollback = await runCli(['rollback', '--yes', '--reason', 'pager: checkout errors'], { cwd: dir, env: alice });
    expect(rollback.stdout).toMatch(/the run rolled e2e back: 10% → 0%/);
    expect(rollback.code).toBe(0);
    expect(service.percentage).toBe(0);
    const r = await run.result;
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/rolled back by alice: pager: checkout errors/);
    expect(history().find((e) => e.action === 'rollback')).toMatchObject({ actor: 'alice', from: 10, to: 0, reason: 'pager: checkout errors' });
  });

  it('`rollout advance` ahead of an approval gate is kept by the run, which passes the gate as the approver', async () => {
    writePlan({ stages: '[10, { percent: 100, approval: true }]', bake: '3s' });
    const run = await runUntil(service, dir, ['--wait-approval'], 10);
    const approve = await runCli(['advance', '--yes'], { cwd: dir, env: alice });
    expect(approve.stdout).toMatch(/approved: the run advances to 100% once 10% has baked healthy/);
    expect(approve.code).toBe(0);
    const r = await run.result;
    expect(r.code).toBe(0);
    expect(service.puts).toEqual([10, 100]);
    expect(history().find((e) => e.to === 100)).toMatchObject({ action: 'advance', actor: 'alice', reason: expect.stringMatching(/^approved by alice/) });
  });

  it('`rollout advance` with no gate ahead is refused by the run (exit 3), which goes on by itself', async () => {
    writePlan({ stages: '[10, 50, 100]', bake: '10m' });
    const run = await runUntil(service, dir, [], 10);
    const advance = await runCli(['advance', '--yes'], { cwd: dir, env: alice });
    expect(advance.code).toBe(3);
    expect(advance.stdout).toMatch(/the next stage \(50%\) needs no approval: the run advances by itself once 10% has baked healthy/);
    expect(service.puts).toEqual([10]);
    run.child.kill('SIGINT');
    expect((await run.result).code).toBe(130);
  });

  it('a run that does not answer: the request is withdrawn, nothing changes, exit 5 pointing at the emergency', async () => {
    writePlan({ stages: '[10, 50, 100]', bake: '10m' });
    const run = await runUntil(service, dir, [], 10);
    run.child.kill('SIGSTOP');
    try {
      const hold = await runCli(['hold', '--reason', 'stuck?'], { cwd: dir, env: { ...alice, ROLLOUT_REQUEST_WAIT_MS: '2000' } });
      expect(hold.code).toBe(5);
      expect(hold.stderr).toMatch(/did not answer within 2s; the request was withdrawn and nothing changed/);
      expect(hold.stderr).toContain('rollback --emergency');
    } finally {
      run.child.kill('SIGCONT');
    }
    run.child.kill('SIGINT');
    expect((await run.result).code).toBe(130);
    expect(history().map((e) => e.action)).toEqual(['start']);
  });
});

describe('PostgreSQL state', () => {
  const world = usePostgresRollout('requests', (service) => servicePlan(service, { stages: '[10, 50, 100]', bake: '10m' }));

  it('hold and resume reach a run on another runner through the database', async () => {
    const shared = (env: NodeJS.ProcessEnv) => ({ ...env, ROLLOUT_STATE_URL: world.url });
    const run = await runUntil(world.service, world.dir, [], 10, shared(ci));
    const elsewhere = mkdtempSync(join(tmpdir(), 'rollout-elsewhere-'));
    writeFileSync(join(elsewhere, 'rollout.yaml'), readFileSync(join(world.dir, 'rollout.yaml')));
    const hold = await runCli(['hold', '--reason', 'db check'], { cwd: elsewhere, env: shared(alice) });
    expect(hold.stdout).toMatch(/the run paused e2e at 10%/);
    const resume = await runCli(['resume', '--json'], { cwd: elsewhere, env: shared(alice) });
    expect(expectDocument('resume', resume.stdout)).toMatchObject({ kind: 'resume', action: 'resume', askedRun: true, applied: true });
    run.child.kill('SIGINT');
    expect((await run.result).code).toBe(130);
    const { events } = JSON.parse((await runCli(['history', '--json'], { cwd: elsewhere, env: shared(alice) })).stdout) as { events: HistoryEvent[] };
    expect(events.map((e) => `${e.action} ${e.actor}`)).toEqual(['start ci-bot', 'hold alice', 'resume alice']);
  });
});
