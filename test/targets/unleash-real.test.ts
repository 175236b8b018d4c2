/**
 * The unleash target through the built CLI against a REAL Unleash server (the `unleash-server`
 * package, on the PostgreSQL this file starts, 127.0.0.1 only): advance moves the feature's
 * gradual rollout, the emergency turns the feature off in that environment, drift made in Unleash
 * is refused, and neither a good nor a bad token is ever printed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/state/types.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startUnleash, type TestUnleash } from '../helpers/unleash.js';

let postgres: TestPostgres;
let unleash: TestUnleash;
let features = 0;

beforeAll(async () => {
  postgres = await startPostgres();
  const started = performance.now();
  unleash = await startUnleash(await postgres.createDatabase('unleash'));
  console.log(`Unleash started in ${Math.round(performance.now() - started)} ms`);
}, 120_000);
afterAll(async () => {
  await unleash?.stop();
  await postgres?.destroy();
});

/** A fresh feature at `rollout` % in production, and a plan directory whose plan targets it. */
async function rolloutOf(rollout: number) {
  const feature = `checkout-v${++features}`;
  const { strategyId } = await unleash.createFeature(feature, rollout);
  const dir = mkdtempSync(join(tmpdir(), 'rollout-unleash-'));
  writeFileSync(
    join(dir, 'rollout.yaml'),
    `version: 1
name: e2e
stages: [10, 25, 100]
analysis: { interval: 1s, bake: 0s }
target:
  type: unleash
  url: "${unleash.url}/api"
  token: "\${UNLEASH_API_TOKEN}"
  project: default
  feature: ${feature}
  environment: production
`,
  );
  const cli = (args: string[], token = unleash.token) => runCli(args, { cwd: dir, env: { UNLEASH_API_TOKEN: token, ROLLOUT_ACTOR: 'alice' } });
  const history = async () => (JSON.parse((await cli(['history', '--json'])).stdout) as { events: HistoryEvent[] }).events;
  return { feature, strategyId, cli, history };
}

function expectNoToken(r: CliResult, token = unleash.token): void {
  expect(r.stdout).not.toContain(token);
  expect(r.stderr).not.toContain(token);
}

describe('unleash target against a real Unleash', () => {
  it('advance sets the gradual rollout stage by stage, read back from Unleash; status sees it', async () => {
    const { feature, cli, history } = await rolloutOf(0);
    for (const percent of [10, 25]) {
      const r = await cli(['advance', '--yes']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`→ ${percent}%`);
      expectNoToken(r);
      expect(await unleash.production(feature)).toEqual({ enabled: true, rollout: String(percent) });
    }
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as { target: unknown };
    expect(status.target).toMatchObject({ percent: 25, drift: false });
    expect((await history()).map((e) => `${e.action} ${e.from}→${e.to}`)).toEqual(['start 0→10', 'advance 10→25']);
  });

  it('rollback --emergency sets 0 % and turns the feature off in that environment', async () => {
    const { feature, cli, history } = await rolloutOf(0);
    expect((await cli(['advance', '--yes'])).code).toBe(0);
    const r = await cli(['rollback', '--emergency']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('EMERGENCY ROLLBACK e2e: 10% → 0%');
    expectNoToken(r);
    expect(await unleash.production(feature)).toEqual({ enabled: false, rollout: '0' });
    expect((await history()).at(-1)).toMatchObject({ action: 'emergency-rollback', from: 10, to: 0 });
  });

  it('a rollout changed in Unleash is drift: advance refuses (exit 5) until --adopt', async () => {
    const { feature, strategyId, cli } = await rolloutOf(0);
    expect((await cli(['advance', '--yes'])).code).toBe(0);
    await unleash.admin('PATCH', `/api/admin/projects/default/features/${feature}/environments/production/strategies/${strategyId}`, [
      { op: 'replace', path: '/parameters/rollout', value: '40' },
    ]);
    const refused = await cli(['advance', '--yes']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/drift: state says 10 ?%, target says 40 ?%/);
    expect((await unleash.production(feature)).rollout).toBe('40');
    const adopted = await cli(['advance', '--yes', '--adopt']);
    expect(adopted.code, adopted.stderr).toBe(0);
    expect((await unleash.production(feature)).rollout).toBe('100');
  });

  it('a token Unleash does not accept: exit 6 saying which token to use, never printing it, nothing changed', async () => {
    const { feature, cli } = await rolloutOf(0);
    const wrong = '*:*.not-a-token-unleash-knows-0123456789';
    const r = await cli(['advance', '--yes'], wrong);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/Unleash did not accept the token: use an admin API token or a personal access token/);
    expectNoToken(r, wrong);
    expect(await unleash.production(feature)).toEqual({ enabled: true, rollout: '0' });
  });
});

