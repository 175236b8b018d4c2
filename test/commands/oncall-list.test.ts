/**
 * `rollout list` (issue 17): three rollouts in mixed states — one baking under a live `run` that
 * holds its lock, one paused by hand, one rolled back — in a state dir and in a real PostgreSQL,
 * read without any plan; drift seen through each rollout's recorded target; the exit code is the
 * worst rollout's. The built CLI, env-file targets in a temp dir.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { expectNoPassword, usePostgresRollout } from '../helpers/postgres-rollout.js';

const env = { ROLLOUT_ACTOR: 'alice' };

/** Writes plans alpha, beta, gamma (env-file targets) into a fresh directory. */
function plans(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-list-'));
  for (const name of ['alpha', 'beta', 'gamma']) {
    writeFileSync(join(dir, `${name}.env`), 'PCT=0\n');
    writeFileSync(join(dir, `${name}.yaml`), `version: 1\nname: ${name}\nstages: [10, 50, 100]\nanalysis: { interval: 1s, bake: 10m }\ntarget: { type: env-file, path: ${name}.env, key: PCT }\n`);
  }
  return dir;
}

/** alpha baking under a running `run`, beta paused, gamma rolled back; returns the run. */
async function mixedStates(dir: string, stateArgs: string[], stateEnv: NodeJS.ProcessEnv = {}): Promise<RunningCli> {
  const cli = (...args: string[]) => runCli([...args, ...stateArgs], { cwd: dir, env: { ...env, ...stateEnv } });
  expect((await cli('advance', 'beta.yaml', '--yes')).code).toBe(0);
  expect((await cli('hold', 'beta.yaml', '--reason', 'p95 spike')).code).toBe(0);
  expect((await cli('advance', 'gamma.yaml', '--yes')).code).toBe(0);
  expect((await cli('rollback', 'gamma.yaml', '--yes', '--reason', 'errors')).code).toBe(0);
  const run = startCli(['run', 'alpha.yaml', ...stateArgs], { cwd: dir, env: { ...env, ROLLOUT_ACTOR: 'ci-bot', ...stateEnv } });
  await expect.poll(async () => (await cli('status', 'alpha.yaml', '--json')).stdout, { timeout: 15_000, interval: 200 }).toMatch(/"percent":10/);
  return run;
}

interface Listed {
  name: string;
  status: string;
  percent: number;
  stage: number | null;
  stages: number | null;
  lockHolder?: { actor: string; command: string };
  detail?: string;
  timeInStageMs?: number;
}

function expectMixed(rollouts: Listed[]): void {
  expect(rollouts.map((r) => [r.name, r.status, r.percent])).toEqual([
    ['alpha', 'baking', 10],
    ['beta', 'paused', 10],
    ['gamma', 'rolled back', 0],
  ]);
  expect(rollouts[0]).toMatchObject({ stage: 1, stages: 3, lockHolder: { actor: 'ci-bot', command: 'run' }, timeInStageMs: expect.any(Number) });
  expect(rollouts[1]).toMatchObject({ detail: 'by alice: p95 spike' });
  expect(rollouts[1]?.lockHolder).toBeNull();
}

describe('rollout list, file state', () => {
  it('shows three rollouts in mixed states with the lock holder; exit 4 (the worst: rolled back), then 5 on drift', async () => {
    const dir = plans();
    const run = await mixedStates(dir, []);
    try {
      const listed = await runCli(['list', '--json'], { cwd: dir, env });
      expect(listed.code).toBe(4);
      expectMixed((JSON.parse(listed.stdout) as { rollouts: Listed[] }).rollouts);
      const table = await runCli(['list'], { cwd: dir, env });
      expect(table.stdout).toMatch(/alpha .*1\/3 .*10% .*baking .*ci-bot \(run, pid \d+/);
      expect(table.stdout).toMatch(/beta .*paused: by alice: p95 spike/);

      writeFileSync(join(dir, 'gamma.env'), 'PCT=30\n');
      const drifted = await runCli(['list', '--json'], { cwd: join(dir), env });
      expect(drifted.code).toBe(5);
      expect((JSON.parse(drifted.stdout) as { rollouts: Listed[] }).rollouts[2]).toMatchObject({ name: 'gamma', status: 'drift', detail: 'state says 0%, target says 30%' });
    } finally {
      run.child.kill('SIGINT');
      await run.result;
    }
  });

  it('an empty or missing state dir lists nothing, exit 0', async () => {
    const r = await runCli(['list', '--state-dir', join(tmpdir(), 'no-such-rollout-dir')], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no rollouts in .*no-such-rollout-dir \(the directory does not exist: check --state-dir\)/);
    const empty = await runCli(['list', '--state-dir', mkdtempSync(join(tmpdir(), 'empty-rollouts-'))], { env });
    expect(empty.stdout).toMatch(/no rollouts in .*empty-rollouts-\w+\n$/);
  });
});

describe('rollout list, PostgreSQL state', () => {
  const world = usePostgresRollout('list');

  it('shows the same three rollouts from the database, from a directory without plans or state', async () => {
    const url = world.url;
    const dir = plans();
    const run = await mixedStates(dir, ['--state', url]);
    try {
      const elsewhere = mkdtempSync(join(tmpdir(), 'rollout-empty-'));
      const listed = await runCli(['list', '--json'], { cwd: elsewhere, env: { ...env, ROLLOUT_STATE_URL: url } });
      expect(listed.code).toBe(4);
      expectMixed((JSON.parse(listed.stdout) as { rollouts: Listed[] }).rollouts);
      expectNoPassword(world.server, listed);
    } finally {
      run.child.kill('SIGINT');
      await run.result;
    }
  });
});
