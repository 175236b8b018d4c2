/** What a run does with each request (src/analysis/run-requests.ts), decided purely. */
import { describe, expect, it } from 'vitest';
import { decideRequest } from '../../src/analysis/run-requests.js';
import { newRequest } from '../../src/rollout/requests.js';
import { enterStage, notStarted, pauseRollout } from '../../src/state/transitions.js';
import { requestIdPattern } from '../../src/state/types.js';
import { planFromYaml } from '../helpers/plan.js';

const plan = await planFromYaml('version: 1\nname: req\nstages: [10, 50, { percent: 100, approval: true }]\nrollback: { to: previous }\ntarget: { type: command, set: [echo] }\n');
const at = (index: number) => ({ ...enterStage(plan, notStarted(plan), index, 1_000), version: 4 });
const ask = (kind: Parameters<typeof newRequest>[0], fields: Parameters<typeof newRequest>[3] = {}) => newRequest(kind, 'alice', 5_000, fields);

describe('decideRequest', () => {
  it('hold pauses as the requester, once', () => {
    const action = decideRequest(plan, at(0), ask('hold', { reason: 'p95' }), 5_000);
    expect(action).toMatchObject({ type: 'change', next: { paused: { reason: 'p95', by: 'alice', at: 5_000 }, version: 5 }, event: { action: 'hold', actor: 'alice', from: 10, to: 10 } });
    const paused = pauseRollout(at(0), { reason: 'x', by: 'bob', at: 1 });
    expect(decideRequest(plan, paused, ask('hold'), 5_000)).toMatchObject({ type: 'refuse', message: 'already paused by bob: x', exitCode: 0 });
  });

  it('resume lifts a pause, and is a no-op when there is none', () => {
    const paused = pauseRollout(at(1), { reason: 'x', by: 'bob', at: 1 });
    const action = decideRequest(plan, paused, ask('resume'), 5_000);
    expect(action).toMatchObject({ type: 'change', event: { action: 'resume', actor: 'alice' } });
    expect(action.type === 'change' && action.next.paused).toBeUndefined();
    expect(decideRequest(plan, at(1), ask('resume'), 5_000)).toMatchObject({ type: 'refuse', exitCode: 0 });
  });

  it("rollback goes to the plan's rollback.to, or the request's, only ever down, and ends the run", () => {
    expect(decideRequest(plan, at(1), ask('rollback', { reason: 'pager' }), 5_000)).toMatchObject({
      type: 'change', towardsSafety: true, ends: 'rolled-back', next: { percent: 10, stageIndex: 0, rolledBack: true }, event: { action: 'rollback', from: 50, to: 10, actor: 'alice', reason: 'pager' },
    });
    expect(decideRequest(plan, at(1), ask('rollback', { to: 0 }), 5_000)).toMatchObject({ type: 'change', next: { percent: 0, stageIndex: -1 } });
    expect(decideRequest(plan, at(1), ask('rollback', { to: 100 }), 5_000)).toMatchObject({ type: 'change', next: { percent: 0 } });
    expect(decideRequest(plan, notStarted(plan), ask('rollback'), 5_000)).toMatchObject({ type: 'refuse', exitCode: 0 });
  });

  it('approve is kept for the gate just ahead, and refused (exit 3) where there is none', () => {
    expect(decideRequest(plan, at(1), ask('approve'), 5_000)).toMatchObject({ type: 'approve', toStage: 2 });
    expect(decideRequest(plan, at(0), ask('approve'), 5_000)).toMatchObject({ type: 'refuse', exitCode: 3, message: expect.stringContaining('needs no approval') });
    expect(decideRequest(plan, at(2), ask('approve'), 5_000)).toMatchObject({ type: 'refuse', exitCode: 3 });
  });

  it('request ids are file-safe and sort by time', () => {
    const ids = [newRequest('hold', 'a', 2_000_000_000_000), newRequest('hold', 'a', 1_700_000_000_000)].map((r) => r.id);
    for (const id of ids) expect(id).toMatch(requestIdPattern);
    expect([...ids].sort()).toEqual([ids[1], ids[0]]);
  });
});
