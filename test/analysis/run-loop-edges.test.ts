/**
 * The run loop's edges (issue 13's mutation survivors): requests from other commands acted on
 * mid-sleep, what it does and does not do while standing by for approval, a store that never
 * takes the start, interruptions that surface as other errors, and the exact events it shows.
 */
import { describe, expect, it } from 'vitest';
import { InterruptedError, StateStoreError } from '../../src/errors.js';
import { newRequest } from '../../src/rollout/requests.js';
import { pauseRollout } from '../../src/state/transitions.js';
import type { RunRequest } from '../../src/state/types.js';
import { byPoll, CRITICAL, makePlan, MIN, OK, SEC, WARNING, World } from '../helpers/run-world.js';

const ask = (kind: RunRequest['kind'], fields: Parameters<typeof newRequest>[3] = {}) => newRequest(kind, 'alice', 0, fields);
const approvalPlan = () => makePlan('[10, 50, { percent: 100, approval: true }]');

describe('runLoop: requests from other commands', () => {
  it('a hold posted mid-sleep is acted on within about a second as the requester; the run stays paused until a resume', async () => {
    const world = new World(await makePlan('[10, 50, 100]', { interval: '10m', bake: '30m' }));
    world.inbox = [
      { from: 1 * MIN, request: ask('hold', { reason: 'p95 spike' }) },
      { from: 2 * 60 * MIN, request: ask('resume') },
    ];
    const outcome = await world.run();
    expect(outcome.kind).toBe('complete');
    expect(world.actions()).toEqual(['start', 'hold', 'resume', 'advance', 'advance', 'complete']);
    const [, hold, resume, advance] = world.history;
    expect(hold).toMatchObject({ actor: 'alice', reason: 'p95 spike (the run paused on request)' });
    // Looked for about every second while sleeping a 10-minute interval, not at the next poll.
    expect(Date.parse(hold?.time ?? '') - Date.parse(world.history[0]?.time ?? '')).toBeLessThanOrEqual(1 * MIN + 2 * SEC);
    expect(resume?.actor).toBe('alice');
    // Nothing moved while paused: the advance comes after the resume, the bake counted from the stage's entry.
    expect(Date.parse(advance?.time ?? '')).toBeGreaterThanOrEqual(Date.parse(resume?.time ?? ''));
    expect(world.answers.map((a) => [a.applied, a.exitCode])).toEqual([[true, 0], [true, 0]]);
    expect(world.looks.every((l) => l.lockHeld)).toBe(true);
  });

  it('a rollback request ends the run as rolled back by the requester; requests behind it are answered as dismissed', async () => {
    const world = new World(await makePlan());
    world.inbox = [
      { from: 40 * SEC, request: ask('rollback', { reason: 'pager' }) },
      { from: 40 * SEC, request: ask('resume') },
    ];
    const outcome = await world.run();
    expect(outcome).toMatchObject({ kind: 'rolled-back', exitCode: 4, reason: 'rolled back by alice: pager' });
    expect(world.target).toBe(0);
    expect(world.history.at(-1)).toMatchObject({ action: 'rollback', actor: 'alice', from: 10, to: 0 });
    expect(world.answers).toEqual([
      expect.objectContaining({ applied: true, exitCode: 0 }),
      expect.objectContaining({ applied: false, exitCode: 5, message: 'the run ended first: rolled back by alice: pager' }),
    ]);
  });

  it('an approval posted ahead of the gate passes it without --wait-approval, with the approver as actor', async () => {
    const world = new World(await approvalPlan());
    world.inbox = [{ from: 11 * MIN, request: ask('approve', { reason: 'ok by SRE' }) }];
    const outcome = await world.run();
    expect(outcome.kind).toBe('complete');
    const approved = world.history.find((e) => e.to === 100);
    expect(approved).toMatchObject({ action: 'advance', actor: 'alice' });
    expect(approved?.reason).toBe('approved by alice: ok by SRE; waiting for approval: 100% needs a human `rollout advance`');
  });

  it('an approval without a reason reads "approved by <who>"', async () => {
    const world = new World(await approvalPlan());
    world.inbox = [{ from: 11 * MIN, request: ask('approve') }];
    await world.run();
    expect(world.history.find((e) => e.to === 100)?.reason).toMatch(/^approved by alice; waiting for approval/);
  });
  it('a request that comes in before --timeout is acted on, even when the next poll falls after it', async () => {
    const world = new World(await makePlan('[10, 50, 100]', { interval: '10m', bake: '30m' }));
    world.inbox = [{ from: 12 * MIN, request: ask('hold', { reason: 'look' }) }];
    const began = world.clock.monotonic();
    const outcome = await world.run({ timeoutMs: 15 * MIN });
    expect(outcome).toMatchObject({ kind: 'timeout', reason: '--timeout reached at 10%; state kept' });
    expect(world.answers).toEqual([expect.objectContaining({ applied: true })]);
    expect(world.stored?.paused).toMatchObject({ by: 'alice' });
    expect(world.clock.monotonic() - began).toBe(15 * MIN);
  });
});

describe('runLoop: requests when polls overrun the interval', () => {
  it('still takes requests when it never sleeps (each poll longer than the interval)', async () => {
    const world = new World(await makePlan('[10, 50, 100]', { interval: '30s', bake: '10m' }));
    world.pollMs = 45 * SEC;
    world.inbox = [{ from: 2 * MIN, request: ask('rollback', { reason: 'pager' }) }];
    const outcome = await world.run();
    expect(outcome).toMatchObject({ kind: 'rolled-back', reason: 'rolled back by alice: pager' });
    // At the first poll after it was posted, not at the next stage's sleep eight minutes later.
    expect(world.actions()).toEqual(['start', 'rollback']);
    expect(world.clock.monotonic() - world.pollStarts[0]!).toBeLessThan(3 * MIN);
    // The rollback is recorded at the time it was acted on.
    expect(world.stored?.enteredAt).toBe(world.clock.now());
  });
});

describe('runLoop: standing by for approval', () => {
  it('looks for no requests and asks no guard with the lock let go, and shows its polls as standing-by', async () => {
    const world = new World(await approvalPlan());
    world.inbox = [];
    let waits = 0;
    world.onStandBy = (w) => {
      if (++waits === 4) w.stored = { ...w.stored!, version: w.stored!.version + 1, stageIndex: 2, percent: 100, enteredAt: w.clock.now() };
      if (waits === 4) w.target = 100;
    };
    const outcome = await world.run({ waitApproval: true });
    expect(outcome.kind).toBe('complete');
    expect(world.looks.length).toBeGreaterThan(0);
    expect(world.looks.every((l) => l.lockHeld)).toBe(true);
    expect(world.guards.every(Boolean)).toBe(true);
    const decisions = world.polls().map((p) => p.decision);
    expect(decisions.filter((d) => d === 'wait-approval')).toHaveLength(1);
    expect(decisions.indexOf('standing-by')).toBe(decisions.indexOf('wait-approval') + 1);
  });

  it('a critical while standing by shows as critical, and restarts the bake without writing or recording with the lock let go', async () => {
    const world = new World(await approvalPlan());
    let waits = 0;
    world.onStandBy = (w) => {
      if (++waits === 8) {
        w.stored = { ...w.stored!, version: w.stored!.version + 1, stageIndex: 2, percent: 100, enteredAt: w.clock.now() };
        w.target = 100;
      }
    };
    // At the gate, the second poll standing by reads critical, then healthy ones while the bake restarts.
    let n = 0;
    world.metric = (_t, w) => (w.lockLog.includes('let go') && ++n === 2 ? CRITICAL : OK);
    const outcome = await world.run({ waitApproval: true });
    expect(outcome.kind).toBe('complete');
    const decisions = world.polls().map((p) => p.decision);
    expect(decisions).toContain('critical');
    expect(decisions).toContain('standing-by');
  });

  it('a human pausing while it stands by ends the run as paused, not as rolled back', async () => {
    const world = new World(await approvalPlan());
    world.onStandBy = (w) => {
      if (w.lockLog.length === 3) w.stored = pauseRollout(w.stored!, { reason: 'lunch', by: 'bob', at: w.clock.now() });
    };
    const outcome = await world.run({ waitApproval: true });
    expect(outcome).toMatchObject({ kind: 'paused', exitCode: 3, reason: 'paused by bob: lunch (resume with `rollout resume`)' });
  });

  it('--until before the gate ends with exit 0 at the gate, not waiting for approval', async () => {
    const world = new World(await approvalPlan());
    const outcome = await world.run({ untilStage: 1 });
    expect(outcome).toMatchObject({ kind: 'until', exitCode: 0, reason: 'reached --until 50%: stage baked healthy' });
  });
});

describe('runLoop: stores, interruptions and what it shows', () => {
  it('a store that never takes the start retries once per interval until --timeout, applying nothing', async () => {
    const world = new World(await makePlan());
    const effects = world.effects();
    let attempts = 0;
    effects.commit = async () => {
      attempts++;
      throw new StateStoreError('store down');
    };
    const outcome = await world.runWith(effects, { timeoutMs: 5 * MIN });
    expect(outcome).toMatchObject({ kind: 'timeout', exitCode: 3, reason: '--timeout reached at 0%; state kept' });
    expect(attempts).toBe(10);
    expect(world.target).toBe(0);
  });

  it('an abort that surfaces as another error during a poll ends as interrupted; without an abort it propagates', async () => {
    const world = new World(await makePlan());
    const controller = new AbortController();
    const effects = world.effects();
    effects.poll = async () => {
      controller.abort(new InterruptedError());
      throw new Error('fetch failed: This operation was aborted');
    };
    expect(await world.runWith(effects, {}, controller.signal)).toMatchObject({ kind: 'interrupted', exitCode: 130, reason: 'interrupted at 10%; state and target agree' });

    const plain = new World(await makePlan());
    const failing = plain.effects();
    failing.poll = async () => Promise.reject(new Error('a bug in a source'));
    await expect(plain.runWith(failing)).rejects.toThrow('a bug in a source');
  });

  it('shows each recorded event as it happens; the start is unjudged ("skipped") and says where it starts', async () => {
    const world = new World(await makePlan());
    const outcome = await world.run();
    expect(outcome.reason).toBe('100% baked healthy for 10m');
    expect(world.history[0]).toMatchObject({ action: 'start', reason: 'start at 10%', verdict: 'skipped' });
    const shown = world.emitted.filter((e) => e.type === 'event');
    expect(shown).toEqual(world.history.map((event) => ({ type: 'event', event })));
    expect(world.lockLog).toEqual([]);
  });

  it('a critical then a healthy poll writes the critical count back to 0, so a restart does not resume a stale streak', async () => {
    const world = new World(await makePlan('[10, 50, 100]', { failureLimit: 3 }));
    world.metric = byPoll([CRITICAL, OK]);
    const effects = world.effects();
    let polls = 0;
    effects.guard = async () => {
      if (++polls === 3) throw new Error('stop here');
    };
    await expect(world.runWith(effects)).rejects.toThrow('stop here');
    expect(world.polls().map((p) => p.consecutiveCritical)).toEqual([1, 0]);
    expect(world.stored?.consecutiveCritical).toBe(0);
  });

  it('with a bake off the polling grid, advances the moment the bake ends (one extra poll), not at the next interval', async () => {
    const world = new World(await makePlan('[10, 50, 100]', { interval: '45s', bake: '10m' }));
    await world.run();
    const [start, advance] = world.history;
    expect(Date.parse(advance?.time ?? '') - Date.parse(start?.time ?? '')).toBe(10 * MIN);
  });

  it('a warning hold is polled again at the interval: only a healthy bake brings the poll forward', async () => {
    const world = new World(await makePlan('[10, 50, 100]', { interval: '45s', bake: '10m' }));
    world.metric = byPoll([WARNING]);
    await world.run({ untilStage: 0 });
    const starts = world.pollStarts;
    expect(starts[1]! - starts[0]!).toBe(45 * SEC);
  });

  it('keeps the comparison counts of the stage in state at every poll that brings new ones, healthy polls included', async () => {
    const world = new World(await makePlan());
    const effects = world.effects();
    const poll = effects.poll;
    let n = 0;
    effects.poll = async (state) => {
      const judgement = await poll(state);
      n++;
      const counts = { canaryEvents: n, canaryTotal: 100 * n, baselineEvents: 0, baselineTotal: 100 * n };
      return { ...judgement, evidence: { stageIndex: state.stageIndex, percent: state.percent, lastAt: n, counts: { errors: counts } } };
    };
    let guarded = 0;
    effects.guard = async () => {
      if (++guarded === 6) throw new Error('stop mid-bake');
    };
    await expect(world.runWith(effects)).rejects.toThrow('stop mid-bake');
    expect(world.polls().map((p) => p.verdict)).toEqual(['healthy', 'healthy', 'healthy', 'healthy', 'healthy']);
    expect(world.stored?.evidence?.lastAt).toBe(5);
  });

  it('rolls back holding the lock it always held: nothing to take back', async () => {
    const world = new World(await makePlan());
    world.metric = byPoll([CRITICAL, CRITICAL]);
    expect((await world.run()).kind).toBe('rolled-back');
    expect(world.lockLog).toEqual([]);
  });

  it('a healthy bake appends nothing to history poll after poll: each append carries events', async () => {
    const world = new World(await makePlan());
    const effects = world.effects();
    const record = effects.record;
    const appended: number[] = [];
    effects.record = async (events) => {
      appended.push(events.length);
      return record(events);
    };
    world.metric = byPoll([WARNING, OK, OK, OK]);
    await world.runWith(effects, { untilStage: 0 });
    expect(world.polls().length).toBeGreaterThan(20);
    expect(appended.every((n) => n > 0)).toBe(true);
  });
});
