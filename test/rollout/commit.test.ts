/**
 * The commit path in-process: a real file store in a temp dir, a target in memory. Each rule of
 * commit.ts has a case here that fails when the rule is broken (StrykerJS runs these).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConflictError, StateStoreError, TargetError } from '../../src/errors.js';
import { commitChange, intendedPercent } from '../../src/rollout/commit.js';
import { createFileStore } from '../../src/state/file-store.js';
import { enterStage, notStarted, rolledBack } from '../../src/state/transitions.js';
import type { HistoryEvent, RolloutState, StateStore } from '../../src/state/types.js';
import type { Target } from '../../src/targets/target.js';
import { planFromYaml } from '../helpers/plan.js';
import { FakeTarget } from './fake-target.js';

const plan = await planFromYaml('version: 1\nname: commit\nstages: [10, 50, 100]\ntarget: { type: command, set: [echo] }\n');
const event = (action: HistoryEvent['action'], from: number, to: number): HistoryEvent => ({ time: new Date(0).toISOString(), plan: 'commit', actor: 't', action, from, to, metrics: {}, reason: 'test' });

function world(start = 0) {
  const store = createFileStore({ dir: mkdtempSync(join(tmpdir(), 'commit-')), plan: 'commit' });
  const target = new FakeTarget(start);
  return { plan, store, target };
}

async function startedAt10(w: ReturnType<typeof world>): Promise<RolloutState> {
  const next = enterStage(plan, notStarted(plan), 0, 1000);
  await commitChange(w, { from: 0, to: 10, next, events: [event('start', 0, 10)] });
  return next;
}

describe('commitChange', () => {
  it('checks the store, ends orphaned writes, applies, then records state and events', async () => {
    const w = world();
    const next = await startedAt10(w);
    expect(w.target.calls).toEqual(['settle orphans', 'apply 10']);
    expect(w.target.percent).toBe(10);
    expect(await w.store.load()).toEqual(next);
    expect((await w.store.history()).map((e) => e.action)).toEqual(['start']);
  });

  it('does not touch the target when the percentage does not change, unless told to', async () => {
    const w = world();
    const state = await startedAt10(w);
    w.target.calls.length = 0;
    await commitChange(w, { from: 10, to: 10, next: { ...state, version: state.version + 1 }, events: [] });
    expect(w.target.calls).toEqual([]);
    await commitChange(w, { from: 10, to: 10, next: { ...state, version: state.version + 2 }, events: [], alwaysApply: true });
    expect(w.target.calls).toEqual(['settle orphans', 'apply 10']);
  });

  it('refuses with the target untouched when state moved since it was read (a stale writer)', async () => {
    const w = world();
    const state = await startedAt10(w);
    w.target.calls.length = 0;
    const stale = enterStage(plan, { ...state, version: state.version - 1 }, 1, 2000);
    await expect(commitChange(w, { from: 10, to: 50, next: stale, events: [] })).rejects.toBeInstanceOf(ConflictError);
    expect(w.target.calls).toEqual([]);
    expect(w.target.percent).toBe(10);
  });

  it('puts the target back to where it was when the apply fails, and keeps state', async () => {
    const w = world();
    const state = await startedAt10(w);
    w.target.failApply.add(50);
    const error = await commitChange(w, { from: 10, to: 50, next: enterStage(plan, state, 1, 2000), events: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect((error as Error).message).toMatch(/^applying 50% failed: apply 50 failed — the target was put back to 10%; state is unchanged$/);
    expect(w.target.percent).toBe(10);
    expect(await w.store.load()).toEqual(state);
  });

  it('a rollback that fails halfway leaves the target where it got, never back up to the bad percentage', async () => {
    const w = world();
    const state = await startedAt10(w);
    w.target.calls.length = 0;
    w.target.failApply.add(0);
    const error = await commitChange(w, { from: 10, to: 0, next: rolledBack(plan, state, { stageIndex: -1, percent: 0 }, 2000), events: [], towardsSafety: true }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/not put back to 10%/);
    expect(w.target.calls.filter((c) => c === 'apply 10')).toEqual([]);
  });

  it('a rollback goes ahead when the store cannot be read; an advance does not', async () => {
    const w = world();
    const state = await startedAt10(w);
    const broken: StateStore = { ...w.store, load: async () => Promise.reject(new StateStoreError('store down')), save: w.store.save };
    const down = { ...w, store: broken };
    await expect(commitChange(down, { from: 10, to: 50, next: enterStage(plan, state, 1, 2000), events: [] })).rejects.toThrow('store down');
    expect(w.target.percent).toBe(10);
    await commitChange(down, { from: 10, to: 0, next: rolledBack(plan, state, { stageIndex: -1, percent: 0 }, 2000), events: [], towardsSafety: true });
    expect(w.target.percent).toBe(0);
  });

  it('fencing: a write that lands after an emergency fenced the rollout puts itself back to 0 % and fails with exit 5', async () => {
    const w = world();
    const state = await startedAt10(w);
    // While this command's apply of 50 % is in flight, an emergency fences the rollout and sets 0 %.
    w.target.duringApply = async (percent) => {
      if (percent !== 50) return;
      w.target.duringApply = undefined;
      const fenced = { ...state, version: state.version + 1, emergency: { by: 'oncall', at: 1500, command: 'rollback --emergency' } };
      await w.store.save(fenced, [], { force: true });
      w.target.percent = 0;
    };
    const error = await commitChange(w, { from: 10, to: 50, next: enterStage(plan, state, 1, 2000), events: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/took this rollout over \(now 0%\); the target was set back to 0% and this command stops/);
    expect(w.target.percent).toBe(0);
    expect(w.target.calls.slice(-1)).toEqual(['apply 0']);
  });

  it('a write that lands after another command rolled back follows state, not its own starting point', async () => {
    const w = world();
    const state = await startedAt10(w);
    w.target.duringApply = async (percent) => {
      if (percent !== 50) return;
      w.target.duringApply = undefined;
      await w.store.save(rolledBack(plan, state, { stageIndex: -1, percent: 0 }, 1500), [], { force: true });
    };
    await expect(commitChange(w, { from: 10, to: 50, next: enterStage(plan, state, 1, 2000), events: [] })).rejects.toBeInstanceOf(ConflictError);
    expect(w.target.percent).toBe(0);
  });

  it('says so when putting the target back fails too', async () => {
    const w = world();
    const state = await startedAt10(w);
    w.target.failApply.add(50);
    w.target.failApply.add(10);
    const error = await commitChange(w, { from: 10, to: 50, next: enterStage(plan, state, 1, 2000), events: [] }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/putting the target back to 10% failed too \(apply 10 failed\); the next command will report the drift/);
  });
});

describe('commitChange: where the target stands after each failure', () => {
  it('a save that fails with nothing applied keeps its own error and never touches the target', async () => {
    const w = world();
    const state = await startedAt10(w);
    w.target.calls.length = 0;
    const full: StateStore = { ...w.store, save: async () => Promise.reject(new StateStoreError('disk full')) };
    const error = await commitChange({ ...w, store: full }, { from: 10, to: 10, next: { ...state, version: state.version + 1 }, events: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toBe('disk full');
    expect(w.target.calls).toEqual([]);
  });

  it('a save that fails after the apply puts the target back and says it was the recording', async () => {
    const w = world();
    const state = await startedAt10(w);
    const full: StateStore = { ...w.store, save: async () => Promise.reject(new StateStoreError('disk full')) };
    const error = await commitChange({ ...w, store: full }, { from: 10, to: 50, next: enterStage(plan, state, 1, 2000), events: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toBe('recording 50% failed: disk full — the target was put back to 10%; state is unchanged');
    expect(w.target.percent).toBe(10);
  });

  it('a failed apply with a store that stops answering puts the target back to where this command found it', async () => {
    const w = world();
    const state = await startedAt10(w);
    w.target.failApply.add(50);
    let loads = 0;
    const flaky: StateStore = { ...w.store, load: async () => (++loads === 1 ? w.store.load() : Promise.reject(new StateStoreError('store down'))) };
    const error = await commitChange({ ...w, store: flaky }, { from: 10, to: 50, next: enterStage(plan, state, 1, 2000), events: [] }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('applying 50% failed: apply 50 failed — the target was put back to 10%; state is unchanged');
    expect(w.target.percent).toBe(10);
  });

  it('state saved meanwhile by a command that did not roll back: the target follows it, and the error says so', async () => {
    const w = world();
    const state = await startedAt10(w);
    w.target.duringApply = async (percent) => {
      if (percent !== 50) return;
      w.target.duringApply = undefined;
      // `rollout hold` by hand took the lock over and saved a pause at 10 %.
      await w.store.save({ ...state, version: state.version + 1, paused: { reason: 'lunch', by: 'bob', at: 1 } }, []);
    };
    const error = await commitChange(w, { from: 10, to: 50, next: enterStage(plan, state, 1, 2000), events: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/— state changed meanwhile \(now 10%\), and the target was set to match it$/);
    expect(w.target.percent).toBe(10);
  });

  it('works with a target that has no writes in flight to settle', async () => {
    const w = world();
    const bare: Target = { description: 'bare', read: async () => 10, apply: async () => undefined, emergency: async () => undefined };
    await commitChange({ ...w, target: bare }, { from: 0, to: 10, next: enterStage(plan, notStarted(plan), 0, 1000), events: [] });
    expect((await w.store.load())?.percent).toBe(10);
  });

  it('a target that throws something other than an Error still fails as a target error that says where it stands', async () => {
    const w = world();
    let applied: number[] = [];
    const odd: Target = {
      description: 'odd',
      read: async () => 0,
      apply: async (p) => {
        applied = [...applied, p];
        if (p === 10) throw 'HTTP 502';
      },
      emergency: async () => undefined,
    };
    const error = await commitChange({ ...w, target: odd }, { from: 0, to: 10, next: enterStage(plan, notStarted(plan), 0, 1000), events: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect((error as Error).message).toBe('applying 10% failed: HTTP 502 — the target was put back to 0%; state is unchanged');
    expect(applied).toEqual([10, 0]);
  });
});

describe('intendedPercent', () => {
  it('is 0 under a fence, else what state applied', () => {
    const state = enterStage(plan, notStarted(plan), 1, 0);
    expect(intendedPercent(state)).toBe(50);
    expect(intendedPercent({ ...state, emergency: { by: 'x', at: 0, command: 'c' } })).toBe(0);
  });
});
