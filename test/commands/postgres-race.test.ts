/**
 * Many operators and CI runners on one rollout in a shared PostgreSQL (issue 8), all through the
 * built CLI against a REAL PostgreSQL (started on 127.0.0.1 for this file) and a real local flag
 * API: concurrent advances, a runner killed holding the lock, the database going away, and an
 * emergency rollback taking the lock over.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/state/types.js';
import { startCli, type CliOptions, type CliResult } from '../helpers/cli.js';
import { servicePlan } from '../helpers/fake-service.js';
import { expectEmergencyTakesOverHeldAdvance } from '../helpers/emergency-race.js';
import { expectNoPassword, usePostgresRollout } from '../helpers/postgres-rollout.js';

const isRoot = process.getuid?.() === 0;
// A held PUT must outlast the target's default 10 s timeout while twenty processes start.
const withLongTimeout = (plan: string) => plan.replace('  retries: 0\n', '  retries: 0\n  timeout: 60s\n');
const world = usePostgresRollout('race', (service) => withLongTimeout(servicePlan(service)));

/** `rollout <args> --state <url>` as `actor`, started (not awaited) so a test can signal it. */
function rollout(actor: string, args: string[], options: CliOptions = {}) {
  return startCli([...args, '--state', world.url], { cwd: world.dir, timeoutMs: 60_000, ...options, env: { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: actor, ...options.env } });
}
const advance = (actor: string, options: CliOptions = {}) => rollout(actor, ['advance', '--yes'], options);

async function history(): Promise<HistoryEvent[]> {
  const client = new pg.Client({ connectionString: world.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ event: HistoryEvent }>("SELECT event FROM rollout_history WHERE plan = 'e2e' ORDER BY id");
    return rows.map((r) => r.event);
  } finally {
    await client.end();
  }
}
const actions = async () => (await history()).map((e) => `${e.action} ${e.from}→${e.to}`);

/** Waits until the flag API has received `n` PUTs (answered or still held). */
async function putsReceived(n: number): Promise<void> {
  await expect.poll(() => world.service.server.requests.filter((q) => q.method === 'PUT').length, { timeout: 20_000, interval: 50 }).toBe(n);
}

/** A clear error: no stack trace, neither form of the password. */
function expectCleanError(r: CliResult): void {
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expectNoPassword(world.server, r);
}

/** State and target agree: status reads no drift and the stage's percentage is the flag's. */
async function expectStateMatchesTarget(): Promise<void> {
  const status = JSON.parse((await rollout('status', ['status', '--json']).result).stdout) as { stage: number | null; percent: number; target: { percent: number; drift: boolean } };
  expect(status.target).toMatchObject({ percent: world.service.percentage, drift: false });
  expect(status.stage === null ? 0 : status.percent).toBe(world.service.percentage);
}

describe('advance on a shared PostgreSQL', () => {
  it('20 concurrent advances: exactly one applies, 19 exit 5 naming it; state version and history agree', async () => {
    // The winner is held mid-apply until every other runner has tried, so none comes late and finds the lock free.
    const release = world.service.holdNextPut();
    let finished = 0;
    const runs = Array.from({ length: 20 }, (_, i) =>
      advance(`runner-${i}`).result.then((r) => {
        finished++;
        return { actor: `runner-${i}`, ...r };
      }),
    );
    await expect.poll(() => finished, { timeout: 45_000, interval: 100 }).toBeGreaterThanOrEqual(19);
    release();
    const results = await Promise.all(runs);

    const winners = results.filter((r) => r.code === 0);
    expect(winners.map((w) => w.actor)).toHaveLength(1);
    const winner = winners[0]?.actor ?? '';
    for (const loser of results.filter((r) => r.actor !== winner)) {
      expect(loser.code).toBe(5);
      expect(loser.stderr).toMatch(new RegExp(`^error: locked by ${winner} \\(pid \\d+ on [^,]+, advance, since `));
      expectCleanError(loser);
    }
    expect(world.service.puts).toEqual([10]);

    const events = await history();
    expect(events.map((e) => [e.action, e.actor])).toEqual([['start', winner]]);
    const client = new pg.Client({ connectionString: world.url });
    await client.connect();
    const { rows } = await client.query<{ version: number; state: { version: number; percent: number } }>("SELECT version, state FROM rollout_state WHERE plan = 'e2e'");
    await client.end();
    // One save per event here: the version counts the saves.
    expect(rows).toEqual([{ version: events.length, state: expect.objectContaining({ version: events.length, percent: 10 }) }]);
  }, 60_000);
});

describe('a runner killed while holding the lock', () => {
  it('on this host: its lock is taken at once (its pid is gone), and the apply it left behind shows as drift', async () => {
    const release = world.service.holdNextPut();
    const killed = advance('runner-a');
    await putsReceived(1);
    killed.child.kill('SIGKILL');
    expect((await killed.result).code).toBeNull();
    // The flag API still completes the PUT the runner sent: the target reached 10 %, state did not.
    release();
    await expect.poll(() => world.service.puts).toEqual([10]);

    const next = await advance('runner-b').result;
    expect(next.code).toBe(5);
    expect(next.stderr).toMatch(/^error: drift: the rollout has not started, target says 10 ?%/m);
    expect(next.stderr).not.toContain('locked by');
    const adopted = await rollout('runner-b', ['advance', '--yes', '--adopt']).result;
    expect(adopted.code).toBe(0);
    await expectStateMatchesTarget();
    expect(await actions()).toEqual(['drift 0→10', 'drift 0→10', 'advance 10→25']);
  });

  it.skipIf(!isRoot)('on another host: the lock holds until its lease expires, then the next runner acts and reports the drift', async () => {
    // Refreshed every 2 s, the lease outlives the kill by at least 4 s: time for the next runner to
    // start on a loaded machine and still find it held.
    const lease = { ROLLOUT_LOCK_LEASE_MS: '6000' };
    const release = world.service.holdNextPut();
    const killed = advance('runner-far', { hostname: 'far-runner', env: lease });
    await putsReceived(1);
    killed.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await killed.result).code).toBeNull();

    const blocked = await advance('runner-near', { env: lease }).result;
    expect(blocked.code).toBe(5);
    expect(blocked.stderr).toMatch(new RegExp(`^error: locked by runner-far \\(pid ${killed.child.pid} on far-runner, advance, since `));
    release();
    await expect.poll(() => world.service.puts).toEqual([10]);

    // The last refresh came before the kill, so the lease is over 6 s after it; a second more of slack.
    await sleep(Math.max(0, killedAt + 7_000 - Date.now()));
    const next = await advance('runner-near', { env: lease }).result;
    expect(next.code).toBe(5);
    expect(next.stderr).toMatch(/^error: drift: the rollout has not started, target says 10 ?%/m);
    expect((await rollout('runner-near', ['advance', '--yes', '--adopt'], { env: lease }).result).code).toBe(0);
    await expectStateMatchesTarget();
  }, 40_000);
});

describe('the database going away', () => {
  it('stopped: advance is a clear error (exit 6, no stack, no password), the target untouched; back, it works', async () => {
    await world.server.stop();
    let down: CliResult;
    try {
      down = await advance('runner-a').result;
    } finally {
      await world.server.restart();
    }
    expect(down.code).toBe(6);
    expect(down.stderr).toMatch(/^error: PostgreSQL state store postgres:\/\/rollout:\*\*\*@127\.0\.0\.1:\d+\/race_\d+: taking the lock \(connecting\) failed: connect ECONNREFUSED/);
    expect(down.stderr).toContain('hint: check that the database is running');
    expectCleanError(down);
    expect(world.service.server.requests.filter((q) => q.method === 'PUT')).toEqual([]);

    expect((await advance('runner-a').result).code).toBe(0);
    expect(world.service.puts).toEqual([10]);
    expect(await actions()).toEqual(['start 0→10']);
  });

  it('stopped mid-apply: the target is put back and the error says so (exit 6); back, the next advance applies cleanly', async () => {
    const release = world.service.holdNextPut();
    const running = advance('runner-a');
    await putsReceived(1);
    await world.server.stop();
    let failed: CliResult;
    try {
      release();
      failed = await running.result;
    } finally {
      await world.server.restart();
    }
    expect(failed.code).toBe(6);
    // What failed and where the target stands, not the lock release that failed after it.
    expect(failed.stderr).toMatch(/^error: recording 10% failed: PostgreSQL state store postgres:\/\/rollout:\*\*\*@[^ ]+: saving state( \(connecting\))? failed: .* — the target was put back to 0%; state is unchanged$/m);
    expect(failed.stderr).toMatch(/^warning: the lock was not released \(.*releasing the lock/m);
    expectCleanError(failed);
    expect(world.service.puts).toEqual([10, 0]);

    // The lock left behind is a dead local process's: taken at once.
    expect((await advance('runner-b').result).code).toBe(0);
    expect(world.service.puts).toEqual([10, 0, 10]);
    expect(await actions()).toEqual(['start 0→10']);
    await expectStateMatchesTarget();
  });
  it('stopped mid-run: run reports it, holds without moving the target, and carries on once it is back', async () => {
    writeFileSync(join(world.dir, 'rollout.yaml'), servicePlan(world.service, { bake: '2s', stages: '[10, 25, 100]' }));
    const run = rollout('ci', ['run']);
    let output = '';
    run.child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    await expect.poll(async () => (await actions().catch(() => [])).length, { timeout: 15_000, interval: 100 }).toBe(1);
    await world.server.stop();
    try {
      // Stage 1 bakes for 2 s; its advance falls due while there is nowhere to record it.
      await expect.poll(() => output, { timeout: 20_000, interval: 100 }).toMatch(/state store unavailable at 10%/);
      expect(world.service.puts).toEqual([10]);
    } finally {
      await world.server.restart();
    }
    const result = await run.result;
    expect(result.stdout).toMatch(/state store unavailable at 10%: .*holding at 10%, retrying every interval/);
    expect(result.code).toBe(0);
    expect(world.service.puts).toEqual([10, 25, 100]);
    expect(await actions()).toEqual(['start 0→10', 'advance 10→25', 'advance 25→100', 'complete 100→100']);
  });
});

describe('rollback --emergency', () => {
  it('takes over a held lock, records whom it took it from, and the advance it interrupted cannot undo it', async () => {
    expect((await advance('runner-a').result).code).toBe(0);
    await expectEmergencyTakesOverHeldAdvance({
      service: world.service,
      startAdvance: () => advance('runner-a'),
      emergency: () => rollout('oncall', ['rollback', '--emergency']).result,
      history,
    });
    await expectStateMatchesTarget();
  });
});
