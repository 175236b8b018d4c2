/**
 * The emergency protocol in-process (src/rollout/emergency.ts): a real file store in a temp dir,
 * a target in memory, the real clock (deadlines are real time, kept short here).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emergencyRollback } from '../../src/rollout/emergency.js';
import { lockHolder } from '../../src/state/actor.js';
import { createFileStore } from '../../src/state/file-store.js';
import { enterStage, notStarted } from '../../src/state/transitions.js';
import type { StateStore } from '../../src/state/types.js';
import { emergencyPlan, oncallContext } from './emergency-setup.js';
import { FakeTarget } from './fake-target.js';

const plan = emergencyPlan;
const ctx = oncallContext;
const deadlines = { callMs: 2000, storeMs: 500 };

async function at50(): Promise<{ store: StateStore; target: FakeTarget }> {
  const store = createFileStore({ dir: mkdtempSync(join(tmpdir(), 'em-')), plan: 'em' });
  const state = { ...enterStage(plan, notStarted(plan), 1, 2), version: 1 };
  await store.save(state, []);
  return { store, target: new FakeTarget(50) };
}

describe('emergencyRollback', () => {
  it('ends writes in flight, sets 0, runs the emergency actions, reads back, records 0 % and lifts its fence', async () => {
    const { store, target } = await at50();
    const outcome = await emergencyRollback(plan, target, async () => store, ctx(), { deadlines });
    expect(outcome).toMatchObject({ ok: true, from: 50, readBack: 0, problems: [] });
    expect(target.calls).toEqual(['settle all', 'apply 0', 'emergency', 'read']);
    const stored = await store.load();
    expect(stored).toMatchObject({ percent: 0, stageIndex: -1, rolledBack: true });
    expect(stored?.emergency).toBeUndefined();
    expect((await store.history()).map((e) => [e.action, e.from, e.to, e.actor])).toEqual([['emergency-rollback', 50, 0, 'oncall']]);
  });

  it('takes a held lock over and says from whom', async () => {
    const { store, target } = await at50();
    await store.lock({ ...lockHolder('run', { ROLLOUT_ACTOR: 'ci' }), pid: process.pid });
    const outcome = await emergencyRollback(plan, target, async () => store, ctx(), { deadlines });
    expect(outcome.ok).toBe(true);
    expect(outcome.tookOverFrom?.actor).toBe('ci');
    expect((await store.history())[0]?.reason).toMatch(/took the lock from ci/);
  });

  it('writes its fence before it reads the target back, so a late write by the former holder is seen and overwritten', async () => {
    const { store, target } = await at50();
    const fencedAtReads: boolean[] = [];
    // The former holder's PUT of 100 % lands while the emergency actions run.
    target.emergency = async () => {
      target.calls.push('emergency');
      target.percent = 100;
    };
    const read = target.read.bind(target);
    target.read = async () => {
      fencedAtReads.push((await store.load())?.emergency !== undefined);
      return read();
    };
    const outcome = await emergencyRollback(plan, target, async () => store, ctx(), { deadlines });
    expect(fencedAtReads).toEqual([true, true]);
    expect(outcome.ok).toBe(true);
    expect(target.percent).toBe(0);
    expect(target.calls).toEqual(['settle all', 'apply 0', 'emergency', 'read', 'settle all', 'apply 0', 'read']);
    expect(outcome.problems.join('\n')).toMatch(/read back 100% after the rollback .* set to 0 again/);
  });

  it('fails (not ok) when the read-back still disagrees, and then does not record 0 %', async () => {
    const { store, target } = await at50();
    target.read = async () => {
      target.calls.push('read');
      return 25;
    };
    const outcome = await emergencyRollback(plan, target, async () => store, ctx(), { deadlines });
    expect(outcome.ok).toBe(false);
    expect(outcome.failure).toMatch(/still reads 25%/);
    const stored = await store.load();
    expect(stored?.percent).toBe(50);
    expect(stored?.emergency).toMatchObject({ by: 'oncall', command: 'rollback --emergency' });
  });

  it('is not ok when the target or its emergency actions fail; history still shows the attempt', async () => {
    for (const failing of ['apply', 'emergency'] as const) {
      const { store, target } = await at50();
      if (failing === 'apply') target.failApply.add(0);
      else target.failEmergency = true;
      const outcome = await emergencyRollback(plan, target, async () => store, ctx(), { deadlines });
      expect(outcome.ok).toBe(false);
      // Where the target can be read back, what it says is the verdict; the failed call is among the problems.
      expect(outcome.failure).toMatch(failing === 'apply' ? /the target still reads 50%/ : /emergency actions: emergency action failed/);
      expect(outcome.problems.join('\n')).toMatch(failing === 'apply' ? /target: apply 0 failed/ : /emergency actions: emergency action failed/);
      expect((await store.load())?.rolledBack).toBe(false);
      expect((await store.history())[0]?.reason).toMatch(failing === 'apply' ? /; target FAILED: / : /; emergency actions FAILED: /);
    }
  });

  it('trusts the set when the target cannot be read back, and says so in its outcome', async () => {
    const { store, target } = await at50();
    target.unreadable = true;
    const outcome = await emergencyRollback(plan, target, async () => store, ctx(), { deadlines });
    expect(outcome).toMatchObject({ ok: true, readBack: undefined });
    expect(target.percent).toBe(0);
  });

  it('never waits for a store that does not answer: 0 % first, one deadline, nothing more asked of it', async () => {
    const { target } = await at50();
    const never = new Promise<never>(() => undefined);
    let asked = 0;
    const hung = { load: () => ((asked++), never), lock: () => ((asked++), never), save: () => ((asked++), never), close: async () => undefined } as unknown as StateStore;
    const t0 = performance.now();
    const outcome = await emergencyRollback(plan, target, async () => hung, ctx(), { deadlines });
    expect(outcome.ok).toBe(true);
    expect(target.percent).toBe(0);
    expect(asked).toBe(1);
    expect(outcome.problems.join('\n')).toMatch(/lock: lock did not answer within 500 ms[\s\S]*recording: skipped/);
    // One store deadline (500 ms), not four; generous for a loaded machine.
    expect(performance.now() - t0).toBeLessThan(2500 * 5);
  });

  it('a target call that hangs is cut at its deadline and reported', async () => {
    const { store, target } = await at50();
    target.hangApply = true;
    const outcome = await emergencyRollback(plan, target, async () => store, ctx(), { deadlines: { callMs: 300, storeMs: 500 } });
    expect(outcome.ok).toBe(false);
    expect(outcome.failure).toMatch(/the target still reads 50%/);
    expect(outcome.problems.join('\n')).toMatch(/target: target did not answer within 300 ms/);
  });

  it('works when state is unreadable: 0 % set, from unknown', async () => {
    const { target } = await at50();
    const store = createFileStore({ dir: mkdtempSync(join(tmpdir(), 'em-')), plan: 'em' });
    const broken = { ...store, load: async () => Promise.reject(new Error('corrupt')) } as StateStore;
    const outcome = await emergencyRollback(plan, target, async () => broken, ctx(), { deadlines });
    expect(outcome.ok).toBe(true);
    expect(outcome.from).toBeUndefined();
    expect(target.percent).toBe(0);
  });
});
