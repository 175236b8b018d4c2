/**
 * `rollout state migrate` end to end: the built CLI copies a rollout between a state directory and
 * a REAL PostgreSQL (started on 127.0.0.1 for this file), in both directions, and the commands then
 * carry on from the copy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/state/file-store.js';
import { createPostgresStore } from '../../src/state/postgres-store.js';
import type { HistoryEvent } from '../../src/state/types.js';
import { runCli } from '../helpers/cli.js';
import { expectNoPassword, usePostgresRollout } from '../helpers/postgres-rollout.js';
import { sampleAt } from '../state/store-contract.js';

const env = { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'alice' };
const world = usePostgresRollout('migrate');

const rollout = (...args: string[]) => runCli(args, { cwd: world.dir, env });
/** History as the file store keeps it, in the shape of `history --json` (an unjudged event's verdict is null there). */
const fileHistory = (stateDir = join(world.dir, '.rollout')): HistoryEvent[] =>
  readFileSync(join(stateDir, 'e2e.history.jsonl'), 'utf8').trim().split('\n').map((l) => ({ verdict: null, ...(JSON.parse(l) as object) }) as unknown as HistoryEvent);
// The events as stored: `history --json` adds each event's plan stage, which the store does not keep.
const historyIn = async (...where: string[]) =>
  (JSON.parse((await rollout('history', '--json', ...where)).stdout) as { events: (HistoryEvent & { stage?: number | null })[] }).events.map(({ stage: _stage, ...stored }) => stored as HistoryEvent);
const actions = (events: HistoryEvent[]) => events.map((e) => `${e.action} ${e.from}→${e.to}`);

describe('rollout state migrate', () => {
  it('copies state and history from files to PostgreSQL, where the rollout carries on; a rerun is a no-op', async () => {
    for (const args of [['advance', '--yes'], ['advance', '--yes'], ['hold', '--reason', 'looking at p95'], ['resume'], ['advance', '--yes']]) {
      expect((await rollout(...args)).code).toBe(0);
    }
    const before = fileHistory();
    expect(actions(before)).toEqual(['start 0→10', 'advance 10→25', 'hold 25→25', 'resume 25→25', 'advance 25→50']);
    const polls = [sampleAt(1), sampleAt(2, { verdict: 'critical' })];
    await createFileStore({ dir: join(world.dir, '.rollout'), plan: 'e2e' }).appendSamples(polls);

    const r = await rollout('state', 'migrate', '--to', world.url);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`copied e2e from ${join(world.dir, '.rollout')} to postgres://rollout:***@127.0.0.1:`);
    expect(r.stdout).toContain('stage 3/5 at 50%, 5 events');
    expectNoPassword(world.server, r);

    // History and the poll log arrive whole and in order; status reads the migrated stage.
    expect(await historyIn('--state', world.url)).toEqual(before);
    const migrated = createPostgresStore({ url: world.url, plan: 'e2e' });
    expect(await migrated.samples()).toEqual(polls);
    await migrated.close();
    const status = await rollout('status', '--state', world.url);
    expect(status.stdout).toMatch(/e2e {2}stage 3\/5 at 50%/);
    expect(JSON.parse((await rollout('status', '--json', '--state', world.url)).stdout)).toMatchObject({ stage: 3, stages: 5, percent: 50, target: { drift: false } });

    const again = await rollout('state', 'migrate', '--to', world.url, '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ copied: false, events: 5, state: { stage: 3, percent: 50 } });

    expect((await rollout('advance', '--yes', '--state', world.url)).code).toBe(0);
    expect(world.service.percentage).toBe(75);
    expect(actions(await historyIn('--state', world.url)).at(-1)).toBe('advance 50→75');
  });

  it('copies back from PostgreSQL to a directory, version counter restarted, and files carry on', async () => {
    for (let i = 0; i < 2; i++) expect((await rollout('advance', '--yes', '--state', world.url)).code).toBe(0);
    expect((await rollout('rollback', '--yes', '--to', 'previous', '--state', world.url)).code).toBe(0);
    const before = await historyIn('--state', world.url);
    expect(actions(before)).toEqual(['start 0→10', 'advance 10→25', 'rollback 25→10']);

    const target = join(world.dir, 'moved');
    const r = await rollout('state', 'migrate', '--from', world.url, '--to', target);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`copied e2e from postgres://rollout:***@127.0.0.1:`);
    expect(r.stdout).toContain(`to ${target}: stage 1/5 at 10%, 3 events`);
    expectNoPassword(world.server, r);

    expect(fileHistory(target)).toEqual(before);
    expect(JSON.parse(readFileSync(join(target, 'e2e.json'), 'utf8'))).toMatchObject({ stageIndex: 0, percent: 10, rolledBack: true, version: 1 });
    expect((await rollout('status', '--state-dir', target)).stdout).toMatch(/stage 1\/5 at 10%/);
    expect((await rollout('advance', '--yes', '--state-dir', target)).code).toBe(0);
    expect(world.service.percentage).toBe(25);
  });

  it('refuses (exit 5) a destination that already holds a different copy, and changes nothing there', async () => {
    expect((await rollout('advance', '--yes')).code).toBe(0);
    expect((await rollout('state', 'migrate', '--to', world.url)).code).toBe(0);
    // The file copy moves on without the database.
    expect((await rollout('advance', '--yes')).code).toBe(0);

    const r = await rollout('state', 'migrate', '--to', world.url);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/error: postgres:\/\/rollout:\*\*\*@127\.0\.0\.1:\d+\/migrate_\d+ already has state of e2e \(stage 1\/5 at 10%, 1 event\), different from .* \(stage 2\/5 at 25%, 2 events\); nothing copied/);
    expectNoPassword(world.server, r);
    expect(actions(await historyIn('--state', world.url))).toEqual(['start 0→10']);
  });

  it('takes the destination lock: a command holding it there makes migrate exit 5 naming the holder', async () => {
    const release = world.service.holdNextPut();
    const holder = runCli(['advance', '--yes', '--state', world.url], { cwd: world.dir, env: { ...env, ROLLOUT_ACTOR: 'bob' } });
    try {
      await expect.poll(() => world.service.server.requests.some((q) => q.method === 'PUT'), { timeout: 10_000 }).toBe(true);
      const r = await rollout('state', 'migrate', '--to', world.url);
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/locked by bob \(pid \d+ on .*, advance, since/);
    } finally {
      release();
    }
    expect((await holder).code).toBe(0);
  });

  it('says when there is nothing to migrate, and refuses a store copied onto itself (exit 2)', async () => {
    const empty = await rollout('state', 'migrate', '--to', world.url);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/nothing to migrate: .*\.rollout has no state or history of e2e/);
    const same = await rollout('state', 'migrate', '--from', world.url, '--to', world.url);
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('--from and --to are the same store');
    expectNoPassword(world.server, same);
  });
});
