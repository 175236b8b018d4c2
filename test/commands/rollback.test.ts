/**
 * `rollout rollback` end to end: the built CLI (CI=true, no TTY) against a real local flag API and
 * metrics route, with state in a temp dir and a real webhook receiver: --verify, --to, a drifted
 * target, and an emergency rollback whose target fails.
 */
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/state/types.js';
import { servicePlan } from '../helpers/fake-service.js';
import { useServiceRollout } from '../helpers/service-rollout.js';

const CRITICAL = { errorRate: 0.2, p95: 0.2 };

const world = useServiceRollout('rollback', { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'oncall' }, (service, receiver) =>
  servicePlan(service, { extra: `notify:\n  - { type: webhook, url: "${receiver.url}/hook", on: [rollback, emergency-rollback, recovered, not-recovered] }\n` }),
);
const rollout = (...args: string[]) => world.rollout(args);

/** Advances `times` times; each must succeed. */
async function advance(times: number): Promise<void> {
  for (let i = 0; i < times; i++) expect((await rollout('advance', '--yes')).code).toBe(0);
}

describe('rollback --verify', () => {
  it('watches the metrics for interval × failureLimit after the rollback and reports recovery', async () => {
    await advance(2);
    const r = await rollout('rollback', '--yes', '--verify');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('verifying recovery: 2 polls, 1s apart');
    expect(r.stdout).toMatch(/rolled back e2e: 25% → 0%\nmetrics recovered\n$/);
    // One read per poll of the watch, none before the rollback.
    expect(world.service.server.requests.filter((q) => q.url === '/metrics.json')).toHaveLength(2 + 1);
    expect(world.moves().slice(-2)).toEqual(['rollback 25→0', 'recovered 0→0']);
    expect(world.delivered()).toEqual(['rollback', 'recovered']);
  });

  it('metrics still critical: says NOT recovered, records a not-recovered event with the readings, and notifies it', async () => {
    await advance(2);
    world.service.metrics = CRITICAL;
    const r = await rollout('rollback', '--yes', '--verify');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('metrics NOT recovered: investigate now');
    expect(world.service.percentage).toBe(0);
    expect(world.history().at(-1)).toMatchObject({
      action: 'not-recovered',
      from: 0,
      to: 0,
      verdict: 'critical',
      metrics: { error_rate: 0.2, p95_latency: 0.2 },
      reason: expect.stringMatching(/still critical after the rollback: error_rate 20% breaches critical > 5%/),
    });
    expect(world.delivered()).toEqual(['rollback', 'not-recovered']);
    const json = await rollout('rollback', '--yes', '--verify', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ action: 'rollback', recovered: false });
  });

  it('without --verify reads no metrics and records no recovery event', async () => {
    await advance(2);
    const reads = world.service.server.requests.filter((q) => q.url === '/metrics.json').length;
    expect((await rollout('rollback', '--yes')).code).toBe(0);
    expect(world.service.server.requests.filter((q) => q.url === '/metrics.json')).toHaveLength(reads);
    expect(world.moves().at(-1)).toBe('rollback 25→0');
  });
});

describe('rollback --to', () => {
  it('--to N goes to the stage with that percentage, and the next advance continues from there', async () => {
    await advance(3);
    const r = await rollout('rollback', '--yes', '--to', '10', '--reason', 'p95 creeping up');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('rolled back e2e: 50% → 10%');
    expect(world.service.percentage).toBe(10);
    expect(world.state()).toMatchObject({ percent: 10, stageIndex: 0, rolledBack: true });
    expect(world.history().at(-1)).toMatchObject({ action: 'rollback', from: 50, to: 10, reason: 'p95 creeping up', actor: 'oncall' });
    expect((await rollout('advance', '--yes')).code).toBe(0);
    expect(world.service.percentage).toBe(25);
  });

  it('an invalid --to is a usage error (exit 2) that says what to pass, and changes nothing', async () => {
    await advance(2);
    for (const to of ['abc', '150', '-5', '12.5']) {
      const r = await rollout('rollback', '--yes', '--to', to);
      expect(r.code, to).toBe(2);
      expect(r.stderr).toContain(`--to ${to} is not a percentage`);
      expect(r.stderr).toMatch(/hint: use --to 0, --to previous, or a stage below 25%: 10/);
    }
    expect(world.service.puts).toEqual([10, 25]);
    expect(world.moves()).toEqual(['start 0→10', 'advance 10→25']);
  });
});

describe('rollback from a drifted target', () => {
  it("records the target's percentage as where it rolled back from, not the one state had", async () => {
    await advance(2);
    world.service.percentage = 40;
    const r = await rollout('rollback', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: drift: state says 25 ?%, target says 40 ?%; rolling back from the target's 40%/);
    expect(r.stdout).toContain('rolled back e2e: 40% → 0%');
    expect(world.service.percentage).toBe(0);
    expect(world.history().at(-1)).toMatchObject({ action: 'rollback', from: 40, to: 0 });
    const [notified] = world.receiver.requests.map((req) => JSON.parse(req.body) as HistoryEvent);
    expect(notified).toMatchObject({ action: 'rollback', from: 40, to: 0 });
  });
});

describe('rollback --emergency when the target fails', () => {
  it('exits 6 saying to set it by hand, still runs the emergency calls, and state does not claim 0 %', async () => {
    await advance(2);
    world.service.refusePut = () => true;
    const r = await rollout('rollback', '--emergency');
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/^error: emergency rollback of e2e could not set the target to 0%/m);
    expect(r.stderr).toMatch(/PUT http:\/\/127\.0\.0\.1:\d+\/flag answered 503/);
    expect(r.stderr).toMatch(/hint: set it by hand now; then run `rollout rollback --emergency` again to record it/);
    expect(r.stdout).not.toContain('EMERGENCY ROLLBACK');
    expect(world.service.percentage).toBe(25);
    expect(world.service.server.requests.some((q) => q.method === 'POST' && q.url === '/flag/disable')).toBe(true);
    // The attempt is recorded and notified; state still says where the target really is.
    expect(world.state()).toMatchObject({ percent: 25, stageIndex: 1, rolledBack: false });
    expect(world.history().at(-1)).toMatchObject({ action: 'emergency-rollback', from: 25, to: 0, reason: expect.stringMatching(/target FAILED: the target still reads 25%/) });
    expect(world.delivered()).toEqual(['emergency-rollback']);
    const status = JSON.parse((await rollout('status', '--json')).stdout) as { stage: number; percent: number; target: { percent: number; drift: boolean } };
    expect(status).toMatchObject({ stage: 2, percent: 25, target: { percent: 25, drift: false } });

    // Once the flag API is back, the same command goes through and is recorded.
    world.service.refusePut = () => false;
    expect((await rollout('rollback', '--emergency')).code).toBe(0);
    expect(world.service.percentage).toBe(0);
    expect(world.state()).toMatchObject({ percent: 0, rolledBack: true });
  });
});
