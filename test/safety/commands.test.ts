/**
 * The safety rules as a person at the keyboard meets them (issue 13, items 3–6, 8, 9): the real
 * CLI, a real JSON metrics endpoint on 127.0.0.1 whose values the test sets, a real env file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';

let server: TestServer;
let errorRate = 0.001;
beforeAll(async () => {
  server = await startTestServer((req, res) => sendJson(res, 200, { errorRate }));
});
afterAll(() => server.close());

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'safety-'));
  errorRate = 0.001;
});

const plan = (options: { stages?: string; analysis?: string; extra?: string } = {}) => {
  writeFileSync(join(dir, '.env'), readEnvOr('PCT=0\n'));
  writeFileSync(
    join(dir, 'rollout.yaml'),
    `version: 1
name: safe
stages: ${options.stages ?? '[10, 25, 50, 75, 100]'}
analysis: { interval: 1s, bake: ${options.analysis ?? '3s'} }
sources: { app: { type: json, url: "${server.url}/m" } }
metrics:
  - { name: error_rate, source: app, path: errorRate, unit: ratio, warning: "> 1%", critical: "> 5%" }
target: { type: env-file, path: .env, key: PCT }
${options.extra ?? ''}`,
  );
};
const readEnvOr = (fallback: string) => {
  try {
    return readFileSync(join(dir, '.env'), 'utf8');
  } catch {
    return fallback;
  }
};
const cli = (...args: string[]) => runCli([args[0] as string, join(dir, 'rollout.yaml'), ...args.slice(1)]);
const env = () => readFileSync(join(dir, '.env'), 'utf8').trim();

describe('advance by hand: the bake is healthy time', () => {
  it('holds after a critical reading inside the bake, even when the bake time has passed', async () => {
    plan({ analysis: '1h' });
    expect((await cli('advance', '--yes')).code).toBe(0);
    errorRate = 0.2;
    const critical = await cli('advance', '--yes');
    expect(critical.code).toBe(4);
    errorRate = 0.001;
    // The stage was entered two hours ago: its 1 h bake counted from entry is long over, but the
    // critical reading a moment ago restarted it.
    const file = join(dir, '.rollout', 'safe.json');
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...stored, enteredAt: stored.enteredAt - 2 * 3_600_000 }));
    const held = await cli('advance', '--yes');
    expect(held.code, held.stdout).toBe(3);
    expect(held.stdout).toMatch(/baking/);
    expect(env()).toBe('PCT=10');
    const status = await cli('status', '--json');
    expect(JSON.parse(status.stdout).bakeRestart.reason).toMatch(/error_rate .*critical/);
  }, 30_000);
});

describe('rollback --to only lowers exposure', () => {
  it('refuses --to above the current stage with exit 2 and changes nothing', async () => {
    plan();
    await cli('advance', '--yes');
    errorRate = 0.2;
    const result = await cli('rollback', '--to', '100', '--yes');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/would not lower exposure/);
    expect(env()).toBe('PCT=10');
    expect((await cli('rollback', '--to', '10', '--yes')).code).toBe(2);
  });

  it('refuses a percentage that is not a stage, even from 0 %', async () => {
    plan();
    const result = await cli('rollback', '--to', '33', '--yes');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/not a stage/);
    expect(env()).toBe('PCT=0');
  });

  it('goes to a lower stage, and to the stage below with previous', async () => {
    plan({ analysis: '0s' });
    for (let i = 0; i < 4; i++) await cli('advance', '--yes');
    expect(env()).toBe('PCT=75');
    expect((await cli('rollback', '--to', 'previous', '--yes')).code).toBe(0);
    expect(env()).toBe('PCT=50');
    expect((await cli('rollback', '--to', '10', '--yes')).code).toBe(0);
    expect(env()).toBe('PCT=10');
  });

  it('never raises exposure through rollback.to in the plan: from below it, a rollback goes to 0', async () => {
    plan({ analysis: '0s', extra: 'rollback: { to: 50 }' });
    await cli('advance', '--yes');
    const result = await cli('rollback', '--yes');
    expect(result.code).toBe(0);
    expect(env()).toBe('PCT=0');
  });
});

describe('--force overrides a hold, never a critical reading', () => {
  it('refuses to force past a critical reading taken during warm-up', async () => {
    plan({ analysis: '3s, warmup: 1m' });
    await cli('advance', '--yes');
    errorRate = 0.2;
    const result = await cli('advance', '--yes', '--force', '--reason', 'it is fine');
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/--force never overrides a critical/);
    expect(env()).toBe('PCT=10');
  });

  it('forces past a warning hold', async () => {
    plan({ analysis: '1h' });
    await cli('advance', '--yes');
    errorRate = 0.02;
    const result = await cli('advance', '--yes', '--force', '--reason', 'known noise');
    expect(result.code).toBe(0);
    expect(env()).toBe('PCT=25');
  });
});

describe('a plan edited under a started rollout', () => {
  it('is refused (exit 5) saying what changed, and --adopt carries on under the new stages', async () => {
    plan({ analysis: '0s' });
    for (let i = 0; i < 4; i++) await cli('advance', '--yes');
    expect(env()).toBe('PCT=75');
    plan({ stages: '[10, 50, 100]', analysis: '0s' });
    const refused = await cli('advance', '--yes');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/stages changed from \[10, 25, 50, 75, 100\] to \[10, 50, 100\]/);
    expect(env()).toBe('PCT=75');
    const status = await cli('status');
    expect(status.stdout).not.toMatch(/stage 4\/3/);
    expect(status.stdout).toMatch(/stages changed/);
    const adopted = await cli('advance', '--yes', '--adopt');
    expect(adopted.code, adopted.stderr).toBe(0);
    expect(env()).toBe('PCT=100');
    const state = JSON.parse(readFileSync(join(dir, '.rollout', 'safe.json'), 'utf8'));
    expect(state).toMatchObject({ percent: 100, stageIndex: 2, stages: [10, 50, 100] });
  });

  it('refuses a state file whose stage index the plan does not have', async () => {
    plan({ analysis: '0s' });
    await cli('advance', '--yes');
    const file = join(dir, '.rollout', 'safe.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), stageIndex: 9 }));
    const result = await cli('advance', '--yes');
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/stage 10 .* but the plan has 5 stages/);
    expect(env()).toBe('PCT=10');
  });
});

describe('impossible plans', () => {
  it.each([['0s'], ['500ms'], ['25d']])('rejects analysis.interval %s (exit 2)', async (interval) => {
    plan({ analysis: `1m, interval: ${interval}` });
    writeFileSync(join(dir, 'rollout.yaml'), readFileSync(join(dir, 'rollout.yaml'), 'utf8').replace('interval: 1s, ', ''));
    const result = await cli('validate');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/interval must be between 1s and 1h/);
  });

  it('warns in validate and in advance when no metric judges the plan (only dryRun ones)', async () => {
    plan({ analysis: '0s' });
    writeFileSync(join(dir, 'rollout.yaml'), readFileSync(join(dir, 'rollout.yaml'), 'utf8').replace('critical: "> 5%" }', 'critical: "> 5%", dryRun: true }'));
    const validated = await cli('validate');
    expect(validated.code).toBe(0);
    expect(validated.stderr).toMatch(/no metric judges this plan/);
    await cli('advance', '--yes');
    const advanced = await cli('advance', '--yes');
    expect(advanced.stderr).toMatch(/no metric judges this plan/);
  });
});

describe('negative readings', () => {
  it('reads a negative ratio as no data with the reason, never healthy (check exits 3)', async () => {
    plan({ analysis: '0s' });
    await cli('advance', '--yes');
    errorRate = -1;
    const result = await cli('check', '--json');
    expect(result.code).toBe(3);
    const reading = JSON.parse(result.stdout).readings[0];
    expect(reading).toMatchObject({ status: 'nodata' });
    expect(reading.reason).toMatch(/negative value -1/);
  });
});
