/** The emergency protocol's edges (src/rollout/emergency.ts): exact outcomes, each rule with a case. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emergencyRollback } from '../../src/rollout/emergency.js';
import { createFileStore } from '../../src/state/file-store.js';
import { enterStage, notStarted } from '../../src/state/transitions.js';
import type { StateStore } from '../../src/state/types.js';
import { planFromYaml } from '../helpers/plan.js';
import { emergencyPlan, oncallContext } from './emergency-setup.js';
import { FakeTarget } from './fake-target.js';

const plan = emergencyPlan;
const ctx = oncallContext;
const deadlines = { callMs: 2000, storeMs: 400 };

/** A real file store at 50 %, with every call counted. */
async function counted() {
  const real = createFileStore({ dir: mkdtempSync(join(tmpdir(), 'em-edge-')), plan: 'em' });
  await real.save({ ...enterStage(plan, notStarted(plan), 1, 2), version: 1 }, []);
  const calls: string[] = [];
  const store: StateStore = {
    // What the emergency does not count (requests, listing) is the real store's.
    ...real,
    load: () => (calls.push('load'), real.load()),
    save: (n, e, o) => (calls.push(`save ${n.percent}${n.emergency ? ' fence' : ''}`), real.save(n, e, o)),
    append: (e) => real.append(e),
    history: () => real.history(),
    appendSamples: (samples) => real.appendSamples(samples),
    samples: () => real.samples(),
    lock: (h, o) => (calls.push('lock'), real.lock(h, o)),
    close: () => (calls.push('close'), real.close()),
  };
  return { store, real, calls };
}

describe('emergencyRollback edges', () => {
  it('fences, then records 0 % with the given reason, releases the lock and closes the store', async () => {
    const { store, real, calls } = await counted();
    const outcome = await emergencyRollback(plan, new FakeTarget(50), async () => store, ctx(), { reason: 'pager', deadlines });
    expect(outcome).toEqual({ ok: true, from: 50, readBack: 0, problems: [], tookOverFrom: undefined, deliveries: [], failure: undefined, targetAtZero: true });
    expect(calls).toEqual(['lock', 'load', 'save 50 fence', 'save 0', 'close']);
    expect((await real.history())[0]?.reason).toBe('pager');
    expect(await real.lock({ actor: 'x', pid: process.pid, host: 'h', since: new Date().toISOString(), command: 'c' })).toBeDefined();
  });

  it('the fence names who and when, at a real time', async () => {
    const { store, real } = await counted();
    const target = new FakeTarget(50);
    let fence: unknown;
    target.read = async () => {
      fence = (await real.load())?.emergency;
      return target.percent;
    };
    const before = Date.now();
    await emergencyRollback(plan, target, async () => store, ctx(), { deadlines });
    expect(fence).toMatchObject({ by: 'oncall', command: 'rollback --emergency' });
    expect((fence as { at: number }).at).toBeGreaterThanOrEqual(before - 1000);
  });

  it('an unreadable target that failed its set is a failure; one whose set went through is not', async () => {
    const { store } = await counted();
    const failing = new FakeTarget(50);
    failing.unreadable = true;
    failing.failApply.add(0);
    const outcome = await emergencyRollback(plan, failing, async () => store, ctx(), { deadlines });
    expect(outcome).toMatchObject({ ok: false, failure: 'target: apply 0 failed', readBack: undefined, targetAtZero: false });
    expect(outcome.problems).toEqual(['target: apply 0 failed']);
  });

  it('a set that failed because a late write landed is healed by the read-back and re-set: ok', async () => {
    const { store } = await counted();
    const target = new FakeTarget(50);
    let first = true;
    target.duringApply = () => {
      if (!first) return;
      first = false;
      throw new Error('read back 50%, expected 0%');
    };
    const outcome = await emergencyRollback(plan, target, async () => store, ctx(), { deadlines });
    expect(outcome.ok).toBe(true);
    expect(outcome.readBack).toBe(0);
    expect(outcome.problems).toEqual(['target: read back 50%, expected 0%', 'the target read back 50% after the rollback (a write in flight landed); set to 0 again']);
  });

  it('failed emergency actions fail the emergency though the target is at 0; the fence stays, state is not 0 %', async () => {
    const { store, real } = await counted();
    const target = new FakeTarget(50);
    target.failEmergency = true;
    const outcome = await emergencyRollback(plan, target, async () => store, ctx(), { deadlines });
    expect(outcome).toMatchObject({ ok: false, failure: 'emergency actions: emergency action failed', readBack: 0, targetAtZero: true });
    const stored = await real.load();
    expect(stored).toMatchObject({ percent: 50, rolledBack: false, emergency: { by: 'oncall' } });
    expect((await real.history())[0]?.reason).toBe('emergency rollback; emergency actions FAILED: emergency actions: emergency action failed');
  });

  it('a store that cannot be opened is skipped with its reason; the target still goes to 0', async () => {
    const target = new FakeTarget(50);
    const outcome = await emergencyRollback(plan, target, async () => Promise.reject(new Error('no such database')), ctx(), { deadlines });
    expect(outcome.ok).toBe(true);
    expect(outcome.from).toBeUndefined();
    expect(outcome.problems).toEqual(['state store: no such database', 'recording: skipped, the state store did not answer; history misses this rollback (rerun once it answers)']);
  });

  it('a lock that fails (not hangs) does not stop the store being asked for state and the fence', async () => {
    const { store, calls } = await counted();
    const refusing = { ...store, lock: async () => Promise.reject(new Error('permission denied')) } as StateStore;
    const outcome = await emergencyRollback(plan, new FakeTarget(50), async () => refusing, ctx(), { deadlines });
    expect(outcome.ok).toBe(true);
    expect(outcome.problems).toEqual(['lock: permission denied']);
    expect(calls).toEqual(['load', 'save 50 fence', 'save 0', 'close']);
  });

  it('a fence that cannot be written: the final record builds on the state as loaded', async () => {
    const { store, real } = await counted();
    let saves = 0;
    const flaky = { ...store, save: (n, e, o) => (++saves === 1 ? Promise.reject(new Error('disk full')) : real.save(n, e, o)) } as StateStore;
    const outcome = await emergencyRollback(plan, new FakeTarget(50), async () => flaky, ctx(), { deadlines });
    expect(outcome.ok).toBe(true);
    expect(outcome.problems).toEqual(['fence: disk full']);
    expect(await real.load()).toMatchObject({ percent: 0, rolledBack: true });
  });

  it('a hung store is closed at the end without being waited for', async () => {
    let closed = false;
    const never = new Promise<never>(() => undefined);
    const hung = { lock: () => never, load: () => never, save: () => never, close: async () => { closed = true; } } as unknown as StateStore;
    await emergencyRollback(plan, new FakeTarget(50), async () => hung, ctx(), { deadlines });
    expect(closed).toBe(true);
  });

  it('names each step that failed: ending writes in flight, state, read-back, recording', async () => {
    const { store, real } = await counted();
    const broken = {
      ...store,
      load: async () => Promise.reject(new Error('corrupt')),
      save: (n, e, o) => (n.emergency ? real.save(n, e, o) : Promise.reject(new Error('disk full'))),
    } as StateStore;
    const target = new FakeTarget(50);
    target.settle = async () => Promise.reject(new Error('ps failed'));
    target.failRead = true;
    const outcome = await emergencyRollback(plan, target, async () => broken, ctx(), { deadlines });
    expect([...outcome.problems].sort()).toEqual(['ending writes in flight: ps failed', 'read-back: read failed', 'recording: disk full', 'state: corrupt']);
    // The set went through and the target cannot be read: trusted, though other steps failed.
    expect(outcome.ok).toBe(true);
  });

  it('takes the lock as `rollback --emergency`, so others see who holds it', async () => {
    const { store } = await counted();
    const holders: string[] = [];
    const watching = { ...store, lock: (h, o) => (holders.push(h.command), store.lock(h, o)) } as StateStore;
    await emergencyRollback(plan, new FakeTarget(50), async () => watching, ctx(), { deadlines });
    expect(holders).toEqual(['rollback --emergency']);
  });

  it('works with a target that keeps no writes in flight', async () => {
    const { store } = await counted();
    const target = new FakeTarget(50);
    Object.defineProperty(target, 'settle', { value: undefined });
    const outcome = await emergencyRollback(plan, target, async () => store, ctx(), { deadlines });
    expect(outcome).toMatchObject({ ok: true, problems: [] });
  });

  it('a set that went through is not a failure because something else failed first (unreadable target, store down)', async () => {
    const target = new FakeTarget(50);
    target.unreadable = true;
    const outcome = await emergencyRollback(plan, target, async () => Promise.reject(new Error('no such database')), ctx(), { deadlines });
    expect(outcome).toMatchObject({ ok: true, failure: undefined });
    expect(outcome.problems[0]).toBe('state store: no such database');
  });

  it('a re-set that fails is not read back again: the target still reads what it read', async () => {
    const { store } = await counted();
    const target = new FakeTarget(50);
    target.failApply.add(0);
    const outcome = await emergencyRollback(plan, target, async () => store, ctx(), { deadlines });
    expect(outcome).toMatchObject({ ok: false, readBack: 50, failure: 'the target still reads 50%' });
    expect(target.calls).toEqual(['settle all', 'apply 0', 'emergency', 'read', 'settle all', 'apply 0']);
  });

  it('overwrites a corrupt state file: the fence and the record are forced, so 0 % is recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'em-corrupt-'));
    writeFileSync(join(dir, 'em.json'), '{"plan": "em", "percent": 5');
    const store = createFileStore({ dir, plan: 'em' });
    const outcome = await emergencyRollback(plan, new FakeTarget(50), async () => store, ctx(), { deadlines });
    expect(outcome.ok).toBe(true);
    expect(outcome.problems.every((p) => p.startsWith('state: '))).toBe(true);
    const reopened = createFileStore({ dir, plan: 'em' });
    expect(await reopened.load()).toMatchObject({ percent: 0, rolledBack: true });
    expect((await reopened.history()).map((e) => e.action)).toEqual(['emergency-rollback']);
  });

  it('records over a corrupt state file even when its fence could not be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'em-corrupt-'));
    writeFileSync(join(dir, 'em.json'), 'not json');
    const real = createFileStore({ dir, plan: 'em' });
    let saves = 0;
    const flaky = { ...real, save: (n, e, o) => (++saves === 1 ? Promise.reject(new Error('disk full')) : real.save(n, e, o)) } as StateStore;
    const outcome = await emergencyRollback(plan, new FakeTarget(50), async () => flaky, ctx(), { deadlines });
    expect(outcome.problems.some((p) => p.startsWith('recording'))).toBe(false);
    expect(await createFileStore({ dir, plan: 'em' }).load()).toMatchObject({ percent: 0, rolledBack: true });
  });

  it('a second read-back that fails after the re-set is named as such', async () => {
    const { store } = await counted();
    const target = new FakeTarget(50);
    let reads = 0;
    target.read = async () => {
      if (++reads === 1) return 50;
      throw new Error('read timed out');
    };
    const outcome = await emergencyRollback(plan, target, async () => store, ctx(), { deadlines });
    expect(outcome.problems).toContain('read-back: read timed out');
    expect(outcome.readBack).toBeUndefined();
  });

  it('notifies the emergency to the plan\'s receivers', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const notifying = await planFromYaml(`version: 1\nname: em\nstages: [10, 50, 100]\ntarget: { type: command, set: [echo] }\nnotify: [{ type: webhook, url: "http://127.0.0.1:${port}/hook", on: [emergency-rollback] }]\n`);
      const outcome = await emergencyRollback(notifying, new FakeTarget(50), async () => Promise.reject(new Error('no store')), ctx(), { deadlines });
      expect(outcome.deliveries).toEqual([expect.objectContaining({ ok: true })]);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatch(/emergency-rollback/);
    } finally {
      server.close();
    }
  });
});
