/**
 * Verbs people bring from Argo Rollouts: `promote` is `advance`, `pause` is `hold`, and `abort`
 * reverts every stage as Argo's abort does (`rollback --to 0`, whatever the plan's rollback.to).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { HistoryEvent, RolloutState } from '../../src/state/types.js';
import { runCli } from '../helpers/cli.js';
import { servicePlan, startFakeService, type FakeService } from '../helpers/fake-service.js';

const env = { APP_TOKEN: 'alias-token', ROLLOUT_ACTOR: 'pat' };
let service: FakeService;
let dir: string;

const rollout = (...args: string[]) => runCli(args, { cwd: dir, env });
const state = () => JSON.parse(readFileSync(join(dir, '.rollout', 'e2e.json'), 'utf8')) as RolloutState;
const moves = () =>
  readFileSync(join(dir, '.rollout', 'e2e.history.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as HistoryEvent)
    .map((e) => `${e.action} ${e.from}→${e.to}`);
/** Output with its times taken out, to compare two commands' answers. */
const timeless = (text: string) => text.replace(/"\d{4}-\d\d-\d\dT[^"]+"/g, '"<time>"');

beforeEach(async () => {
  service = await startFakeService();
  dir = mkdtempSync(join(tmpdir(), 'rollout-aliases-'));
  writeFileSync(join(dir, 'rollout.yaml'), servicePlan(service, { extra: 'rollback: { to: 10 }' }));
});
afterEach(() => service.close());

it('`promote` is `advance`: the same answer to --dry-run, and the same step when it acts', async () => {
  const viaAdvance = await rollout('advance', '--dry-run', '--json');
  const viaPromote = await rollout('promote', '--dry-run', '--json');
  expect(viaAdvance.code).toBe(0);
  expect(viaAdvance.stdout).toMatch(/"to":10/);
  expect(timeless(viaPromote.stdout)).toBe(timeless(viaAdvance.stdout));
  expect((await rollout('promote', '--yes')).code).toBe(0);
  expect((await rollout('advance', '--yes')).code).toBe(0);
  expect(moves()).toEqual(['start 0→10', 'advance 10→25']);
  expect(service.percentage).toBe(25);
});

it('`pause` is `hold`: it needs a reason, pauses, and `resume` lifts it', async () => {
  await rollout('advance', '--yes');
  expect((await rollout('pause')).code).toBe(2);
  expect((await rollout('pause', '--reason', 'checking logs')).code).toBe(0);
  expect(state()).toMatchObject({ paused: expect.objectContaining({ reason: 'checking logs' }) as unknown });
  expect((await rollout('resume')).code).toBe(0);
  expect(state().paused).toBeUndefined();
});

it('`abort` reverts every stage (0 %) where `rollback` goes to the plan\'s rollback.to', async () => {
  await rollout('advance', '--yes');
  await rollout('advance', '--yes');
  expect((await rollout('rollback', '--yes')).code).toBe(0);
  expect(service.percentage).toBe(10);
  await rollout('advance', '--yes');
  const r = await rollout('abort', '--yes', '--reason', 'error budget burnt');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/rolled back e2e: 25% → 0%/);
  expect(service.percentage).toBe(0);
  expect(state().percent).toBe(0);
  expect(moves().at(-1)).toBe('rollback 25→0');
  // Argo's abort has one destination: there is no --to to point it elsewhere.
  expect((await rollout('abort', '--to', '50')).code).toBe(2);
});
