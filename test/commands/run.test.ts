/**
 * `rollout run` end to end: the built CLI as a subprocess (CI=true, no TTY) against a real local
 * flag API and JSON metrics route whose health the test flips, with state in a temp dir. Output
 * is read the way a pipeline would: JSON lines, plain log lines, GitHub annotations and summary.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryEvent, RolloutState } from '../../src/state/types.js';
import { runCli, startCli, type CliResult } from '../helpers/cli.js';
import { servicePlan, startFakeService, type FakeService } from '../helpers/fake-service.js';
import { closedPort, sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';

const env = { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'ci-bot' };
const HEALTHY = { errorRate: 0.001, p95: 0.2 };
const BAD = { errorRate: 0.2, p95: 0.2 };

let service: FakeService;
let receiver: TestServer;
let dir: string;
let canaryWatch: NodeJS.Timeout | undefined;

/** One parsed line of `run --json`. */
type Line = Record<string, unknown> & { kind: string };

const rollout = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: dir, env: { ...env, ...extraEnv } });
const jsonLines = (r: CliResult): Line[] => r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
const storedState = (): RolloutState => JSON.parse(readFileSync(join(dir, '.rollout', 'e2e.json'), 'utf8')) as RolloutState;
const history = (): HistoryEvent[] =>
  readFileSync(join(dir, '.rollout', 'e2e.history.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as HistoryEvent);
const moves = () => history().filter((e) => e.action !== 'hold').map((e) => `${e.action} ${e.from}→${e.to}`);
const writePlan = (options: Parameters<typeof servicePlan>[1]) => writeFileSync(join(dir, 'rollout.yaml'), servicePlan(service, options));

/** The canary breaks once the flag reaches `percent`, and is healthy again below it. */
function breakCanaryAt(percent: number): void {
  canaryWatch = setInterval(() => {
    service.metrics = service.percentage >= percent ? BAD : HEALTHY;
  }, 5);
}

/** Resolves once `condition` holds, polling every 10 ms. */
async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeEach(async () => {
  service = await startFakeService();
  receiver = await startTestServer((_req, res) => sendJson(res, 200, {}));
  dir = mkdtempSync(join(tmpdir(), 'rollout-run-'));
  writePlan({ stages: '[10, 50, 100]' });
});
afterEach(async () => {
  clearInterval(canaryWatch);
  await Promise.all([service.close(), receiver.close()]);
});

describe('rollout run', () => {
  it('walks a healthy rollout to 100 % and exits 0, one JSON object per line per event', async () => {
    const r = await rollout(['run', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(service.puts).toEqual([10, 50, 100]);
    const lines = jsonLines(r);
    expect(lines[0]).toMatchObject({ kind: 'run-start', plan: 'e2e', percent: 0, stages: 3, resumed: false });
    expect(lines.filter((l) => l.kind === 'event').map((l) => `${l.action} ${l.from}→${l.to}`)).toEqual(['start 0→10', 'advance 10→50', 'advance 50→100', 'complete 100→100']);
    const poll = lines.find((l) => l.kind === 'poll');
    expect(poll).toMatchObject({ verdict: 'healthy', decision: 'advance', readings: [{ name: 'error_rate', status: 'ok', value: 0.001 }, { name: 'p95_latency', status: 'ok' }] });
    expect(typeof poll?.time).toBe('string');
    expect(lines.at(-1)).toMatchObject({ kind: 'run-end', outcome: 'complete', exitCode: 0, percent: 100 });
    expect(storedState()).toMatchObject({ completed: true, percent: 100 });
    expect(r.stdout).not.toContain('app-secret-token');
  });

  it('without --json logs one plain, timestamped line per event; --until stops after that stage', async () => {
    const r = await rollout(['run', '--until', '50']);
    expect(r.code).toBe(0);
    expect(service.percentage).toBe(50);
    const lines = r.stdout.trim().split('\n');
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
    expect(r.stdout).toContain('advance 10% → 50% by ci-bot: healthy and baked: advance to 50%');
    expect(r.stdout).toMatch(/error_rate 0\.1% ok/);
    expect(lines.at(-1)).toMatch(/run ended: until at 50% \(exit 0\): reached --until 50%/);
    expect(moves()).toEqual(['start 0→10', 'advance 10→50']);
  });

  it('rolls a canary that turns bad back after failureLimit criticals (exit 4), notifies, and watches recovery', async () => {
    const dead = await closedPort();
    writePlan({
      stages: '[10, 50, 100]',
      extra: `notify:
  - { type: webhook, url: "${receiver.url}/hook", on: [rollback, recovered, not-recovered] }
  - { type: slack, url: "http://127.0.0.1:${dead}/slack", on: [rollback] }`,
    });
    breakCanaryAt(50);
    const r = await rollout(['run', '--json']);
    expect(r.code).toBe(4);
    expect(service.percentage).toBe(0);
    expect(service.puts).toEqual([10, 50, 0]);
    const lines = jsonLines(r);
    const rollback = lines.find((l) => l.kind === 'event' && l.action === 'rollback');
    expect(rollback).toMatchObject({ from: 50, to: 0, verdict: 'critical', reason: expect.stringMatching(/error_rate 20% breaches critical > 5% \(critical 2\/2\)/) });
    // The dead Slack is reported, and did not stop the rollback or the recovery watch.
    expect(lines.find((l) => l.kind === 'notify-failed')).toMatchObject({ action: 'rollback', receiver: 'slack' });
    expect(lines.find((l) => l.kind === 'recovery')).toMatchObject({ recovered: true });
    expect(lines.at(-1)).toMatchObject({ kind: 'run-end', outcome: 'rolled-back', exitCode: 4, percent: 0 });
    expect(storedState()).toMatchObject({ percent: 0, stageIndex: -1, rolledBack: true });
    expect(moves()).toEqual(['start 0→10', 'advance 10→50', 'rollback 50→0', 'recovered 0→0']);
    const delivered = receiver.requests.map((req) => JSON.parse(req.body) as HistoryEvent);
    expect(delivered.map((e) => e.action)).toEqual(['rollback', 'recovered']);
    expect(delivered[0]).toEqual(history().find((e) => e.action === 'rollback'));
  });

  it('in GitHub Actions annotates the hold and the rollback and appends the report to the step summary', async () => {
    const summary = join(dir, 'step-summary.md');
    writeFileSync(summary, '## earlier step\n');
    breakCanaryAt(50);
    const r = await rollout(['run'], { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary });
    expect(r.code).toBe(4);
    // `%` is escaped as %25 in workflow commands.
    expect(r.stderr).toContain('::warning title=rollout e2e held at 50%25::error_rate 20%25 breaches critical > 5%25 (critical 1/2)');
    expect(r.stderr).toContain('::error title=rollout e2e rolled back 50%25 → 0%25::error_rate 20%25 breaches critical > 5%25 (critical 2/2)');
    const text = readFileSync(summary, 'utf8');
    expect(text.startsWith('## earlier step\n')).toBe(true);
    expect(text).toContain('# Deployment log: e2e');
    expect(text).toMatch(/\| 2 \| 50% \|.*rollback/);
  });

  it('stops with exit 3 at an approval stage, and on --timeout, keeping state', async () => {
    writePlan({ stages: '[10, { percent: 100, approval: true }]' });
    const waiting = await rollout(['run']);
    expect(waiting.code).toBe(3);
    expect(waiting.stdout).toMatch(/waiting for approval: 100% needs a human `rollout advance`/);
    expect(service.percentage).toBe(10);

    writePlan({ stages: '[10, { percent: 100, approval: true }]', bake: '10m' });
    const started = Date.now();
    const timedOut = await rollout(['run', '--timeout', '1500ms', '--json']);
    expect(timedOut.code).toBe(3);
    // Without --timeout the 10-minute bake would run until the helper kills it at 30 s.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(jsonLines(timedOut).at(-1)).toMatchObject({ kind: 'run-end', outcome: 'timeout', exitCode: 3, percent: 10 });
    expect(storedState()).toMatchObject({ percent: 10, stageIndex: 0 });
  });

  it('with --wait-approval lets a human `rollout advance` through, then finishes', async () => {
    writePlan({ stages: '[10, { percent: 100, approval: true }]' });
    const run = startCli(['run', '--json', '--wait-approval'], { cwd: dir, env });
    let out = '';
    run.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out.includes('"decision":"standing-by"'), 'the run to stand by for approval');
    const human = await runCli(['advance', '--yes'], { cwd: dir, env: { ...env, ROLLOUT_ACTOR: 'tech-lead' } });
    expect(human.code).toBe(0);
    const r = await run.result;
    expect(r.code).toBe(0);
    expect(service.puts).toEqual([10, 100]);
    expect(history().filter((e) => e.action === 'advance').map((e) => e.actor)).toEqual(['tech-lead']);
    expect(history().at(-1)).toMatchObject({ action: 'complete', actor: 'ci-bot' });
  });

  it('refuses to start on drift (exit 5) unless --adopt', async () => {
    service.percentage = 30;
    const refused = await rollout(['run']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/drift: the rollout has not started, target says 30 ?%/);
    expect(service.puts).toEqual([]);
    const r = await rollout(['run', '--json', '--adopt']);
    expect(r.code).toBe(0);
    expect(service.puts).toEqual([50, 100]);
  });

  it('on SIGINT mid-apply finishes the apply, records it, and exits 130 with state and target agreeing', async () => {
    writePlan({ stages: '[10, 50, 100]', bake: '1s' });
    const run = startCli(['run', '--json'], { cwd: dir, env });
    await until(() => service.puts.includes(10), 'the first stage');
    const release = service.holdNextPut();
    await until(() => service.server.requests.filter((r) => r.method === 'PUT').length === 2, 'the apply of 50 %');
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    release();
    const r = await run.result;
    expect(r.code).toBe(130);
    expect(service.percentage).toBe(50);
    expect(storedState().percent).toBe(50);
    expect(moves()).toEqual(['start 0→10', 'advance 10→50']);
    expect(jsonLines(r).at(-1)).toMatchObject({ kind: 'run-end', outcome: 'interrupted', exitCode: 130, percent: 50 });
  });

  it('holds the lock while it bakes, and on SIGTERM changes nothing and exits 130', async () => {
    writePlan({ stages: '[10, 50, 100]', bake: '10m' });
    const run = startCli(['run'], { cwd: dir, env });
    await until(() => service.puts.includes(10), 'the first stage');
    // A plain advance is asked of the run (oncall-requests.test.ts); an override is not, and meets the lock.
    const other = await rollout(['advance', '--yes', '--force', '--reason', 'skip the bake'], { TZ: 'Asia/Tokyo' });
    expect(other.code).toBe(5);
    // Since when, as human output shows a time: local with its zone, or UTC with --utc.
    expect(other.stderr).toMatch(/locked by ci-bot \(pid \d+ on .*, run, since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+09:00\)/);
    const inUtc = await rollout(['advance', '--yes', '--force', '--reason', 'skip the bake', '--utc'], { TZ: 'Asia/Tokyo' });
    expect(inUtc.stderr).toMatch(/locked by ci-bot \(pid \d+ on .*, run, since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)/);
    run.child.kill('SIGTERM');
    const r = await run.result;
    expect(r.code).toBe(130);
    expect(service.percentage).toBe(10);
    expect(storedState().percent).toBe(10);
    expect(moves()).toEqual(['start 0→10']);
  });
});
