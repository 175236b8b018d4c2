/**
 * The emergency without the plan (issue 17): `rollback --emergency --name` from an empty directory
 * with the plan deleted, and from a plan that no longer parses, using the target recorded in state
 * with `${VAR}` read from the environment at that moment (and kept secret). The built CLI against
 * a real local flag API; state in files and in a real PostgreSQL.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/state/types.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { servicePlan, startFakeService, type FakeService } from '../helpers/fake-service.js';
import { usePostgresRollout } from '../helpers/postgres-rollout.js';

const FLAG_TOKEN = 'flag-secret-9f1c2b';
const env = { APP_TOKEN: 'app-secret-token', FLAG_TOKEN, ROLLOUT_ACTOR: 'ci-bot' };

/** The service plan with a bearer token from ${FLAG_TOKEN} on every flag write. */
const tokenPlan = (service: FakeService) =>
  servicePlan(service).replace('set: { method: PUT,', 'set: { method: PUT, headers: { Authorization: "Bearer ${FLAG_TOKEN}" },');

/** Nothing printed or stored carries the token. */
function expectNoToken(r: CliResult, dir: string): void {
  expect(r.stdout + r.stderr).not.toContain(FLAG_TOKEN);
  for (const file of readdirSync(join(dir, '.rollout'))) expect(readFileSync(join(dir, '.rollout', file), 'utf8')).not.toContain(FLAG_TOKEN);
}

describe('file state', () => {
  let service: FakeService;
  let dir: string;
  let elsewhere: string;
  const rollout = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => runCli(args, { cwd: options.cwd ?? dir, env: options.env ?? env });
  const history = (): HistoryEvent[] => readFileSync(join(dir, '.rollout', 'e2e.history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as HistoryEvent);

  beforeEach(async () => {
    service = await startFakeService();
    dir = mkdtempSync(join(tmpdir(), 'rollout-noplan-'));
    elsewhere = mkdtempSync(join(tmpdir(), 'rollout-empty-'));
    writeFileSync(join(dir, 'rollout.yaml'), tokenPlan(service));
    await rollout(['advance', '--yes']);
    await rollout(['advance', '--yes']);
    expect(service.percentage).toBe(25);
  });
  afterEach(async () => {
    await service.close();
  });

  it('--name from an empty directory with the plan deleted: 0 %, emergency actions, recorded, token read now and never shown', async () => {
    rmSync(join(dir, 'rollout.yaml'));
    const puts = service.server.requests.length;
    const r = await rollout(['rollback', '--emergency', '--name', 'e2e', '--state-dir', join(dir, '.rollout'), '--reason', 'pager: checkout errors'], { cwd: elsewhere, env: { ...env, ROLLOUT_ACTOR: 'oncall-bob' } });
    expect(r.stderr).toMatch(/note: rolling back with the target recorded from .*rollout\.yaml \(sha256 [0-9a-f]{12}…, which is gone now\)/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/EMERGENCY ROLLBACK e2e: 25% → 0%; the target reads 0%/);
    expect(service.percentage).toBe(0);
    const calls = service.server.requests.slice(puts);
    expect(calls.find((q) => q.method === 'PUT')?.headers.authorization).toBe(`Bearer ${FLAG_TOKEN}`);
    expect(calls.some((q) => q.method === 'POST' && q.url === '/flag/disable')).toBe(true);
    expect(history().at(-1)).toMatchObject({ action: 'emergency-rollback', from: 25, to: 0, actor: 'oncall-bob', reason: expect.stringContaining('pager: checkout errors') });
    expectNoToken(r, dir);
  });

  it('a plan that no longer parses: falls back to the recorded target with a warning', async () => {
    writeFileSync(join(dir, 'rollout.yaml'), 'version: 1\nname: e2e\nstages: [10, 25\n');
    const r = await rollout(['rollback', '--emergency']);
    expect(r.stderr).toMatch(/warning: the plan does not load \(.*\); rolling back e2e with the target recorded in its state/);
    expect(r.stderr).toMatch(/which has changed since/);
    expect(r.code).toBe(0);
    expect(service.percentage).toBe(0);
    expect(history().at(-1)).toMatchObject({ action: 'emergency-rollback', from: 25, to: 0 });
  });

  it('a variable the recorded target needs is unset: exit 2 naming it, the target untouched', async () => {
    rmSync(join(dir, 'rollout.yaml'));
    const { FLAG_TOKEN: _unset, ...without } = env;
    const r = await rollout(['rollback', '--emergency', '--name', 'e2e', '--state-dir', join(dir, '.rollout')], { cwd: elsewhere, env: without });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the target recorded for e2e cannot be rebuilt: environment variable FLAG_TOKEN is not set\n/);
    expect(service.percentage).toBe(25);
  });

  it('a receiver whose secret is unset is left out with a warning: the emergency still sets 0 %, here and by --name', async () => {
    const hooked = `${tokenPlan(service)}notify: [{ type: webhook, url: "http://127.0.0.1:9/hook", secret: "\${HOOK_SECRET}", on: [emergency-rollback] }]\n`;
    writeFileSync(join(dir, 'rollout.yaml'), hooked);
    expect((await rollout(['advance', '--yes'], { env: { ...env, HOOK_SECRET: 'hook-secret-77' } })).code).toBe(0);
    expect(service.percentage).toBe(50);
    const here = await rollout(['rollback', '--emergency']);
    expect(here.stderr).toContain('warning: not notifying the webhook receiver: ${HOOK_SECRET} not set');
    expect(here.code).toBe(0);
    expect(service.percentage).toBe(0);
    await rollout(['advance', '--yes', '--adopt'], { env: { ...env, HOOK_SECRET: 'hook-secret-77' } });
    service.percentage = 25;
    const byName = await rollout(['rollback', '--emergency', '--name', 'e2e', '--state-dir', join(dir, '.rollout')], { cwd: elsewhere });
    expect(byName.code).toBe(0);
    expect(service.percentage).toBe(0);
  });

  it('a name with no state there: exit 2 pointing at `rollout list`', async () => {
    const r = await rollout(['rollback', '--emergency', '--name', 'checkout-v2'], { cwd: elsewhere });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no rollout named checkout-v2 in .*\.rollout/);
    expect(r.stderr).toContain('rollout list');
    expect(service.percentage).toBe(25);
  });
});

describe('PostgreSQL state', () => {
  const world = usePostgresRollout('noplan', tokenPlan);

  it('--name with ROLLOUT_STATE_URL from an empty directory, the plan deleted: 0 % and recorded in the database', async () => {
    const shared = { ...env, ROLLOUT_STATE_URL: world.url };
    expect((await runCli(['advance', '--yes'], { cwd: world.dir, env: shared })).code).toBe(0);
    expect(world.service.percentage).toBe(10);
    rmSync(join(world.dir, 'rollout.yaml'));
    const empty = mkdtempSync(join(tmpdir(), 'rollout-empty-'));
    const r = await runCli(['rollback', '--emergency', '--name', 'e2e'], { cwd: empty, env: shared });
    expect(r.stderr).toMatch(/which is gone now/);
    expect(r.code).toBe(0);
    expect(world.service.percentage).toBe(0);
    const history = await runCli(['list', '--json'], { cwd: empty, env: shared });
    expect(JSON.parse(history.stdout)).toMatchObject({ rollouts: [{ name: 'e2e', status: 'rolled back', percent: 0, targetPercent: 0 }] });
    expect(r.stdout + r.stderr).not.toContain(FLAG_TOKEN);
  });
});
