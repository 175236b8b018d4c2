/**
 * The StateStore contract, run against every backend (file-store.test.ts, postgres-store.test.ts)
 * so `file` and `postgres` cannot drift apart. Each test uses its own rollout name; a second store
 * instance for the same name stands for another process.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError, ExitCode } from '../../src/errors.js';
import { processSecrets } from '../../src/plan/secrets.js';
import { newRequest } from '../../src/rollout/requests.js';
import { lockHolder } from '../../src/state/actor.js';
import { COMPACT_AT, KEEP_FULL, KEEP_OLDER, type MetricSample } from '../../src/state/samples.js';
import type { HistoryEvent, LockHolder, RolloutState, StateStore } from '../../src/state/types.js';
import { formatTime } from '../../src/time.js';

/** Opens a store for the rollout `plan`; called once per simulated process. */
export type MakeStore = (plan: string) => StateStore | Promise<StateStore>;

/** A state at `version`, with the fields a stage change sets. */
export function stateAt(plan: string, version: number, overrides: Partial<RolloutState> = {}): RolloutState {
  return {
    plan,
    stageIndex: version - 1,
    percent: version * 10,
    enteredAt: 1_700_000_000_000 + version,
    consecutiveCritical: 0,
    completed: false,
    rolledBack: false,
    version,
    ...overrides,
  };
}

/** A history event; `reason` tells events apart in assertions. */
export function eventFor(plan: string, reason: string, overrides: Partial<HistoryEvent> = {}): HistoryEvent {
  return {
    time: '2024-05-01T12:00:00.000Z',
    plan,
    actor: 'alice',
    action: 'advance',
    from: 10,
    to: 25,
    verdict: 'healthy',
    metrics: { error_rate: 0.01, p95_latency: null },
    reason,
    ...overrides,
  };
}

/** The sample of poll `n` (a second apart); `n` is also its error_rate, to tell samples apart. */
export function sampleAt(n: number, overrides: Partial<MetricSample> = {}): MetricSample {
  return { time: new Date(1_714_564_800_000 + n * 1000).toISOString(), percent: 25, verdict: 'healthy', metrics: { error_rate: n, p95_latency: null }, ...overrides };
}

/** The pid of a process that has exited, for locks whose holder is gone. */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

/** Registers the contract tests for one backend. */
export function describeStoreContract(name: string, makeStore: MakeStore): void {
  describe(`${name} store: StateStore contract`, () => {
    const opened: StateStore[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    /** A rollout name no other test uses, and an opener for "processes" working on it. */
    function rollout(): { plan: string; open: () => Promise<StateStore> } {
      const plan = `contract-${randomBytes(5).toString('hex')}`;
      return {
        plan,
        open: async () => {
          const store = await makeStore(plan);
          opened.push(store);
          return store;
        },
      };
    }

    const alice = (command = 'advance') => lockHolder(command, { ROLLOUT_ACTOR: 'alice' });

    it('has no state and no history before the first save', async () => {
      const store = await rollout().open();
      expect(await store.load()).toBeUndefined();
      expect(await store.history()).toEqual([]);
    });

    it('round-trips every field of the state to another process', async () => {
      const { plan, open } = rollout();
      const state = stateAt(plan, 1, {
        paused: { reason: 'investigating', by: 'bob', at: 1_700_000_000_500 },
        holdingSince: 1_700_000_000_400,
        consecutiveCritical: 1,
        evidence: { stageIndex: 0, percent: 10, lastAt: 1_700_000_000_450, counts: { errors: { canaryEvents: 3, canaryTotal: 310.5, baselineEvents: 27, baselineTotal: 2790 } } },
      });
      await (await open()).save(state, [eventFor(plan, 'start')]);
      expect(await (await open()).load()).toEqual(state);
      await (await open()).save(stateAt(plan, 2, { completed: true }), []);
      expect(await (await open()).load()).toEqual(stateAt(plan, 2, { completed: true }));
    });

    it('refuses a save from a stale version with ConflictError (exit 5), writing nothing', async () => {
      const { plan, open } = rollout();
      const first = await open();
      const second = await open();
      await first.save(stateAt(plan, 1), [eventFor(plan, 'first')]);
      for (const stale of [stateAt(plan, 1), stateAt(plan, 3)]) {
        const err = await second.save(stale, [eventFor(plan, 'lost')]).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConflictError);
        expect((err as ConflictError).exitCode).toBe(ExitCode.conflict);
      }
      expect((await second.load())?.version).toBe(1);
      expect((await second.history()).map((e) => e.reason)).toEqual(['first']);
    });

    it('keeps history in order across saves and appends', async () => {
      const { plan, open } = rollout();
      const store = await open();
      await store.save(stateAt(plan, 1), [eventFor(plan, 'a', { action: 'start' }), eventFor(plan, 'b')]);
      await store.append([eventFor(plan, 'c', { action: 'hold', verdict: 'hold' })]);
      await store.save(stateAt(plan, 2), [eventFor(plan, 'd')]);
      await store.append([]);
      const history = await (await open()).history();
      expect(history.map((e) => e.reason)).toEqual(['a', 'b', 'c', 'd']);
      expect(history[0]).toEqual(eventFor(plan, 'a', { action: 'start' }));
    });

    it('lets exactly one of 20 concurrent saves from the same version win', async () => {
      const { plan, open } = rollout();
      await (await open()).save(stateAt(plan, 1), [eventFor(plan, 'start')]);
      const writers = await Promise.all(Array.from({ length: 20 }, () => open()));
      const results = await Promise.allSettled(
        writers.map((w, i) => w.save(stateAt(plan, 2, { percent: i }), [eventFor(plan, `writer ${i}`)])),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
      }
      const state = await (await open()).load();
      expect(state).toMatchObject({ version: 2, percent: won[0] });
      expect((await (await open()).history()).map((e) => e.reason)).toEqual(['start', `writer ${won[0]}`]);
    });

    it('forced saves skip the version check and stay ahead of stale writers', async () => {
      const { plan, open } = rollout();
      const store = await open();
      await store.save(stateAt(plan, 1), []);
      await store.save(stateAt(plan, 2), []);
      await store.save(stateAt(plan, 1, { percent: 0, rolledBack: true }), [eventFor(plan, 'emergency')], { force: true });
      expect(await store.load()).toEqual({ ...stateAt(plan, 1, { percent: 0, rolledBack: true }), version: 3 });
      // A writer that loaded version 2 before the emergency must not undo it.
      await expect(store.save(stateAt(plan, 3), [])).rejects.toBeInstanceOf(ConflictError);
      await store.save(stateAt(plan, 4), []);
      expect((await store.history()).map((e) => e.reason)).toEqual(['emergency']);
    });

    it('refuses a second lock with ConflictError naming the holder', async () => {
      const { open } = rollout();
      const held = await (await open()).lock(alice('run'));
      const err = await (await open()).lock(lockHolder('advance', { ROLLOUT_ACTOR: 'bob' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as ConflictError).exitCode).toBe(ExitCode.conflict);
      expect((err as ConflictError).message).toBe(
        `locked by alice (pid ${process.pid} on ${hostname()}, run, since ${formatTime(held.holder.since)})`,
      );
      expect((err as ConflictError).hint).toMatch(/rollback --emergency/);
    });

    it('gives the lock to exactly one of 10 processes asking at once', async () => {
      const { open } = rollout();
      const takers = await Promise.all(Array.from({ length: 10 }, () => open()));
      const results = await Promise.allSettled(
        takers.map((t, i) => t.lock(lockHolder('advance', { ROLLOUT_ACTOR: `taker-${i}` }))),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
      }
    });

    it('takes a live lock over with takeOver, naming whom it took it from', async () => {
      const { open } = rollout();
      const first = await (await open()).lock(alice());
      expect(first.tookOverFrom).toBeUndefined();
      const bob = lockHolder('rollback --emergency', { ROLLOUT_ACTOR: 'bob' });
      const taken = await (await open()).lock(bob, { takeOver: true });
      expect(taken.holder).toEqual(bob);
      expect(taken.tookOverFrom).toEqual(first.holder);
      // The old holder finishing must not free the lock it lost.
      await first.release();
      await expect((await open()).lock(alice())).rejects.toThrow(/locked by bob/);
    });

    it('frees the lock on release, and a second release is harmless', async () => {
      const { open } = rollout();
      const store = await open();
      const lock = await store.lock(alice());
      await lock.release();
      await lock.release();
      const next = await (await open()).lock(lockHolder('advance', { ROLLOUT_ACTOR: 'bob' }));
      expect(next.tookOverFrom).toBeUndefined();
      await next.release();
    });

    it('takes a lock whose process is gone from this host, silently', async () => {
      const { open } = rollout();
      const gone: LockHolder = { ...alice(), pid: await deadPid() };
      await (await open()).lock(gone);
      const lock = await (await open()).lock(lockHolder('advance', { ROLLOUT_ACTOR: 'bob' }));
      expect(lock.tookOverFrom).toBeUndefined();
    });

    it('respects a lock held from another host while its lease lasts', async () => {
      const { open } = rollout();
      const remote: LockHolder = { ...alice(), host: 'runner-7.ci.invalid', pid: 1 };
      await (await open()).lock(remote);
      await expect((await open()).lock(alice())).rejects.toThrow(/locked by alice \(pid 1 on runner-7\.ci\.invalid/);
    });

    it('tells who holds the lock: the live holder, nobody once released or once its process is gone', async () => {
      const { open } = rollout();
      const store = await open();
      expect(await store.holder()).toBeUndefined();
      const lock = await store.lock(alice('run'));
      expect(await (await open()).holder()).toEqual(lock.holder);
      await lock.release();
      expect(await store.holder()).toBeUndefined();
      await store.lock({ ...alice('run'), pid: await deadPid() });
      expect(await store.holder()).toBeUndefined();
    });

    it('lists every rollout kept in the same place, with its state and lock holder', async () => {
      const one = rollout();
      const two = rollout();
      const never = rollout();
      await (await one.open()).save(stateAt(one.plan, 1), []);
      const twoStore = await two.open();
      await twoStore.save(stateAt(two.plan, 1, { paused: { reason: 'p95', by: 'bob', at: 1 } }), []);
      const lock = await twoStore.lock(alice('run'));
      await never.open();
      // Other tests' rollouts may share the place: only ours are asserted.
      const mine = (await (await one.open()).list()).filter((r) => [one.plan, two.plan, never.plan].includes(r.name));
      expect(mine.map((r) => r.name)).toEqual([one.plan, two.plan].sort());
      expect(mine.find((r) => r.name === one.plan)).toEqual({ name: one.plan, state: stateAt(one.plan, 1) });
      expect(mine.find((r) => r.name === two.plan)).toEqual({ name: two.plan, state: stateAt(two.plan, 1, { paused: { reason: 'p95', by: 'bob', at: 1 } }), holder: lock.holder });
    });

    it('hands each request to one taker only, oldest first; answers reach the requester once', async () => {
      const { open } = rollout();
      const requester = await open();
      const first = newRequest('hold', 'alice', 1_700_000_000_000, { reason: 'p95' });
      const second = newRequest('rollback', 'bob', 1_700_000_001_000, { to: 'previous' });
      await requester.postRequest(second);
      await requester.postRequest(first);
      const takers = await Promise.all(Array.from({ length: 5 }, () => open()));
      const taken = (await Promise.all(takers.map((t) => t.takeRequests()))).filter((r) => r.length > 0);
      expect(taken.flat().map((r) => r.id).sort()).toEqual([first.id, second.id].sort());
      expect(taken.flat().filter((r) => r.id === first.id)).toEqual([first]);
      expect((await takers[0]?.takeRequests()) ?? []).toEqual([]);
      expect(await requester.takeAnswer(first.id)).toBeUndefined();
      await takers[0]?.answer({ id: first.id, applied: true, message: 'paused', exitCode: 0 });
      expect(await requester.takeAnswer(first.id)).toEqual({ id: first.id, applied: true, message: 'paused', exitCode: 0 });
      expect(await requester.takeAnswer(first.id)).toBeUndefined();
      const later = newRequest('resume', 'carol', 1_700_000_003_000);
      const earlier = newRequest('hold', 'carol', 1_700_000_002_000);
      await requester.postRequest(later);
      await requester.postRequest(earlier);
      expect((await requester.takeRequests()).map((r) => r.id)).toEqual([earlier.id, later.id]);
    });

    it('withdraws a request nobody took, and not one already taken', async () => {
      const { open } = rollout();
      const store = await open();
      const untaken = newRequest('hold', 'alice', 1_700_000_000_000);
      await store.postRequest(untaken);
      expect(await store.withdrawRequest(untaken.id)).toBe(true);
      expect(await (await open()).takeRequests()).toEqual([]);
      const taken = newRequest('resume', 'alice', 1_700_000_000_000);
      await store.postRequest(taken);
      expect((await (await open()).takeRequests()).map((r) => r.id)).toEqual([taken.id]);
      expect(await store.withdrawRequest(taken.id)).toBe(false);
    });

    it('keeps the poll log in order across appends and processes, apart from history', async () => {
      const { open } = rollout();
      const store = await open();
      expect(await store.samples()).toEqual([]);
      await store.appendSamples([sampleAt(1), sampleAt(2, { verdict: 'hold', baselines: { error_rate: 0.5 } })]);
      await store.appendSamples([]);
      await (await open()).appendSamples([sampleAt(3, { percent: 50, verdict: 'critical' })]);
      expect(await (await open()).samples()).toEqual([sampleAt(1), sampleAt(2, { verdict: 'hold', baselines: { error_rate: 0.5 } }), sampleAt(3, { percent: 50, verdict: 'critical' })]);
      expect(await store.history()).toEqual([]);
      expect(await store.load()).toBeUndefined();
    });

    it('compacts the poll log beyond its cap: the last polls exact, older ones thinned keeping the worst', async () => {
      const { open } = rollout();
      const store = await open();
      const total = COMPACT_AT + 10;
      // One critical poll among the old ones, which thinning must not drop.
      const critical = 123;
      await store.appendSamples(Array.from({ length: total - 10 }, (_, i) => sampleAt(i, i === critical ? { verdict: 'critical' } : {})));
      await store.appendSamples(Array.from({ length: 10 }, (_, i) => sampleAt(total - 10 + i)));
      const kept = await (await open()).samples();
      expect(kept.length).toBeLessThanOrEqual(KEEP_FULL + KEEP_OLDER);
      expect(kept.length).toBeGreaterThan(KEEP_FULL);
      expect(kept.slice(-KEEP_FULL)).toEqual(Array.from({ length: KEEP_FULL }, (_, i) => sampleAt(total - KEEP_FULL + i)));
      expect(kept.reduce((sum, s) => sum + (s.polls ?? 1), 0)).toBe(total);
      expect(kept.filter((s) => s.verdict === 'critical').map((s) => s.metrics.error_rate)).toEqual([critical]);
      const times = kept.map((s) => Date.parse(s.time));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    });

    it('redacts secrets in the poll log before writing', async () => {
      const { open } = rollout();
      const secret = `tok-${randomBytes(6).toString('hex')}`;
      processSecrets.add(secret);
      const store = await open();
      await store.appendSamples([sampleAt(1, { metrics: { [`rate_${secret}`]: 0.5 } })]);
      expect((await store.samples())[0]?.metrics).toEqual({ 'rate_***': 0.5 });
    });

    it('redacts secrets in history before writing', async () => {
      const { plan, open } = rollout();
      const secret = `tok-${randomBytes(6).toString('hex')}`;
      processSecrets.add(secret);
      const store = await open();
      await store.save(stateAt(plan, 1), [eventFor(plan, `target answered 401 for ${secret}`)]);
      await store.append([eventFor(plan, `again ${secret}`)]);
      expect((await store.history()).map((e) => e.reason)).toEqual(['target answered 401 for ***', 'again ***']);
    });
  });
}
