/**
 * An emergency rollback racing an advance, on the default file store (postgres-race.test.ts does
 * the same on PostgreSQL): the built CLI against a real local flag API whose PUTs and metric reads
 * the test holds, so each race is set up exactly, however slowly the processes start.
 */
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { expectEmergencyTakesOverHeldAdvance } from '../helpers/emergency-race.js';
import { servicePlan } from '../helpers/fake-service.js';
import { useServiceRollout } from '../helpers/service-rollout.js';

const env = { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'oncall' };
const world = useServiceRollout('file-race', env, (service) => servicePlan(service));

/** `rollout advance --yes` as runner-a, started (not awaited). */
const racingAdvance = () => startCli(['advance', '--yes'], { cwd: world.dir, env: { ...env, ROLLOUT_ACTOR: 'runner-a' } });
const requestsTo = (method: string, url: string) => world.service.server.requests.filter((q) => q.method === method && q.url === url).length;

describe('rollback --emergency against an advance in flight, on the file store', () => {
  it('takes over the lock of an advance held mid-apply and records whom from; the advance cannot undo it', async () => {
    expect((await world.rollout(['advance', '--yes'])).code).toBe(0);
    const emergency = await expectEmergencyTakesOverHeldAdvance({
      service: world.service,
      startAdvance: racingAdvance,
      emergency: () => world.rollout(['rollback', '--emergency']),
      history: () => world.history(),
    });
    expect(emergency.stderr).not.toMatch(/warning: lock/);
    expect(world.state()).toMatchObject({ percent: 0, rolledBack: true });
  });

  it('an advance overtaken while it judged never touches the target: the store is checked before the apply', async () => {
    expect((await world.rollout(['advance', '--yes'])).code).toBe(0);
    const release = world.service.holdNextMetricsRead();
    const racing = racingAdvance();
    await expect.poll(() => requestsTo('GET', '/metrics.json'), { timeout: 20_000, interval: 50 }).toBe(1);

    const emergency = await world.rollout(['rollback', '--emergency']);
    expect(emergency.code, emergency.stderr).toBe(0);
    expect(world.service.percentage).toBe(0);

    release();
    const raced = await racing.result;
    expect(raced.code).toBe(5);
    expect(raced.stderr).toMatch(/^error: the state of e2e changed since this command read it/m);
    // No PUT of 25 %, not even one put back at once: 0 % stays untouched.
    expect(world.service.puts).toEqual([10, 0]);
    expect(world.moves()).toEqual(['start 0→10', 'emergency-rollback 10→0']);
    expect(world.state()).toMatchObject({ percent: 0, rolledBack: true });
  });
});
