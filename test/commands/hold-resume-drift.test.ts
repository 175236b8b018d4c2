/**
 * `hold` and `resume` read the target back first, as every state-changing command does: on drift
 * they refuse (exit 5, naming both percentages and --adopt's way out), record the drift, and
 * change nothing else.
 */
import { describe, expect, it } from 'vitest';
import { servicePlan } from '../helpers/fake-service.js';
import { useServiceRollout } from '../helpers/service-rollout.js';

const world = useServiceRollout('hold-drift', { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'alice' }, (service) => servicePlan(service));

describe('hold and resume on a drifted target', () => {
  it('both read the target back', async () => {
    expect((await world.rollout(['advance', '--yes'])).code).toBe(0);
    const reads = () => world.service.server.requests.filter((q) => q.method === 'GET' && q.url === '/flag').length;
    const before = reads();
    expect((await world.rollout(['hold', '--reason', 'lunch'])).code).toBe(0);
    expect(reads()).toBeGreaterThan(before);
    const held = reads();
    expect((await world.rollout(['resume'])).code).toBe(0);
    expect(reads()).toBeGreaterThan(held);
  });

  it('hold refuses on drift (exit 5) and records it; nothing is paused', async () => {
    expect((await world.rollout(['advance', '--yes'])).code).toBe(0);
    world.service.percentage = 40;
    const r = await world.rollout(['hold', '--reason', 'investigating']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/drift: state says 10 ?%, target says 40 ?%/);
    expect(world.state().paused).toBeUndefined();
    expect(world.moves()).toEqual(['start 0→10', 'drift 10→40']);
  });

  it('resume refuses on drift (exit 5) and records it; the rollout stays paused', async () => {
    expect((await world.rollout(['advance', '--yes'])).code).toBe(0);
    expect((await world.rollout(['hold', '--reason', 'investigating'])).code).toBe(0);
    world.service.percentage = 40;
    const r = await world.rollout(['resume']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/drift: state says 10 ?%, target says 40 ?%/);
    expect(world.state().paused).toMatchObject({ by: 'alice', reason: 'investigating' });
    expect(world.moves()).toEqual(['start 0→10', 'hold 10→10', 'drift 10→40']);
  });
});
