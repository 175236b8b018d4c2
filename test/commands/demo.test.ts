/**
 * `rollout demo` as a newcomer's CI job would run it: the built CLI, CI=true, no terminal. The
 * assertions are on the events the demo printed (its own and every `rollout run` event).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { expectStream } from '../helpers/json-contract.js';

type Line = Record<string, unknown> & { kind: string };

function parseLines(stdout: string): Line[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Line);
}

/** The lines of each scenario's run, from its `demo-run` line to its `demo-result` line. */
function runsOf(lines: Line[]): Map<string, Line[]> {
  const runs = new Map<string, Line[]>();
  let current: Line[] | undefined;
  for (const line of lines) {
    if (line.kind === 'demo-run') runs.set(String(line.scenario), (current = []));
    current?.push(line);
    if (line.kind === 'demo-result') current = undefined;
  }
  return runs;
}

/** History events (advance, rollback, …) of a run. */
function historyOf(run: Line[]): Array<{ action: string; from: number; to: number; verdict?: string }> {
  return run.filter((l) => l.kind === 'event') as never;
}

describe('rollout demo', () => {
  it('walks a healthy canary to 100 % and rolls a bad one back, then exits 0', async () => {
    const r = await runCli(['demo', '--json'], { timeoutMs: 90_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = parseLines(r.stdout);
    expectStream('demo', r.stdout);
    expect(lines[0]).toMatchObject({ kind: 'demo-start', flag: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/api\/flags\/demo$/) });
    const runs = runsOf(lines);
    expect([...runs.keys()]).toEqual(['healthy', 'bad']);

    const healthy = runs.get('healthy') ?? [];
    // Holds come and go (the first poll has one scrape only: no data yet); the moves are what count.
    expect(historyOf(healthy).filter((e) => e.action !== 'hold').map((e) => [e.action, e.from, e.to])).toEqual([
      ['start', 0, 10],
      ['advance', 10, 25],
      ['advance', 25, 50],
      ['advance', 50, 100],
      ['complete', 100, 100],
    ]);
    expect(healthy.find((l) => l.kind === 'run-end')).toMatchObject({ outcome: 'complete', exitCode: 0, percent: 100 });
    expect(healthy.at(-1)).toMatchObject({ kind: 'demo-result', ok: true, exitCode: 0, percent: 100 });
    // Durations are whole milliseconds, as everywhere in --json (the schema forbids any other field).
    expect(Number.isInteger(healthy.at(-1)?.durationMs) && Number(healthy.at(-1)?.durationMs) > 1000).toBe(true);

    const bad = runs.get('bad') ?? [];
    const badHistory = historyOf(bad);
    expect(badHistory.find((e) => e.action === 'rollback')).toMatchObject({ from: 25, to: 0, verdict: 'critical' });
    expect(badHistory.some((e) => e.action === 'advance' && e.to > 25)).toBe(false);
    // Two critical polls in a row at 25 % (failureLimit 2), the second one rolling back.
    const criticalPolls = bad.filter((l) => l.kind === 'poll' && l.verdict === 'critical');
    expect(criticalPolls.map((p) => [p.percent, p.consecutiveCritical])).toEqual([[25, 1], [25, 2]]);
    expect(bad.find((l) => l.kind === 'recovery')).toMatchObject({ recovered: true });
    expect(bad.find((l) => l.kind === 'run-end')).toMatchObject({ outcome: 'rolled-back', exitCode: 4, percent: 0 });
    expect(bad.at(-1)).toMatchObject({ kind: 'demo-result', ok: true, exitCode: 4, percent: 0 });

    const end = lines.at(-1);
    expect(end).toMatchObject({ kind: 'demo-end', ok: true });
    expect(existsSync(String(lines[0]?.dir))).toBe(false); // the temporary plans are cleaned up
  }, 90_000);

  it('--scenario flaky: single critical blips do not roll back (failureLimit 2)', async () => {
    const r = await runCli(['demo', '--scenario', 'flaky', '--json'], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    const run = runsOf(parseLines(r.stdout)).get('flaky') ?? [];
    const polls = run.filter((l) => l.kind === 'poll');
    expect(polls.some((p) => p.verdict === 'critical' && p.consecutiveCritical === 1)).toBe(true);
    expect(polls.every((p) => Number(p.consecutiveCritical) < 2)).toBe(true);
    expect(historyOf(run).some((e) => e.action === 'rollback')).toBe(false);
    expect(run.find((l) => l.kind === 'run-end')).toMatchObject({ outcome: 'complete', exitCode: 0, percent: 100 });
    expect(run.at(-1)).toMatchObject({ kind: 'demo-result', ok: true, criticalBlips: expect.any(Number) });
    expect(Number(run.at(-1)?.criticalBlips)).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('in a CI log: plain lines that tell the story', async () => {
    const r = await runCli(['demo', '--scenario', 'bad'], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/a bad canary: fine at 10%, then 15% errors from 25%/);
    expect(r.stdout).toMatch(/\$ rollout run \S+demo-bad\.yaml/);
    expect(r.stdout).toMatch(/rollback 25% → 0%/);
    expect(r.stdout).toMatch(/✓ bad: run exited 4 with the flag at 0%/);
    expect(r.stdout).toMatch(/demo passed: the bad canary was rolled back to 0%/);
  }, 60_000);

  it('--keep leaves the service up for status/advance against the written plan, until Ctrl-C', async () => {
    const demo = startCli(['demo', '--scenario', 'healthy', '--keep', '--json'], { timeoutMs: 60_000 });
    let stdout = '';
    const keep = await new Promise<Line>((resolve, reject) => {
      demo.child.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString();
        const line = stdout.split('\n').find((l) => l.includes('"demo-keep"'));
        if (line) resolve(JSON.parse(line) as Line);
      });
      demo.child.on('close', () => reject(new Error(`demo ended before --keep:\n${stdout}`)));
    });
    const plan = String(keep.plan);
    const flag = await (await fetch(`${String(keep.url)}/api/flags/demo`)).json();
    expect(flag).toEqual({ percentage: 100 });
    const status = await runCli(['status', plan, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ plan: 'demo-healthy', completed: true, percent: 100, target: { percent: 100, drift: false } });
    const rollback = await runCli(['rollback', plan, '--emergency']);
    expect(rollback.code).toBe(0);
    expect(await (await fetch(`${String(keep.url)}/api/flags/demo`)).json()).toEqual({ percentage: 0 });

    demo.child.kill('SIGINT');
    const result = await demo.result;
    expect(result.code).toBe(0);
    expect(parseLines(result.stdout).at(-1)).toMatchObject({ kind: 'demo-end', ok: true });
    expect(existsSync(plan)).toBe(false);
  }, 60_000);

  it('an unknown scenario is a usage error', async () => {
    const r = await runCli(['demo', '--scenario', 'chaos']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--scenario chaos is not a scenario[\s\S]*healthy, bad, flaky, all/);
  });
});
