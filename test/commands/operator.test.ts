/**
 * The operator commands end to end: the built CLI as a subprocess (CI=true, no TTY) against a real
 * local flag API and metrics route, with state in a temp dir. Each decision branch is tested
 * in-process in test/commands/in-process/; these keep the flags, exit codes and HTTP end to end.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/state/types.js';
import { runCli, startCli } from '../helpers/cli.js';
import { servicePlan, startFakeService, type FakeService } from '../helpers/fake-service.js';
import { closedPort, startTestServer } from '../helpers/http-server.js';

const env = { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'alice' };
let service: FakeService;
let dir: string;

const rollout = (...args: string[]) => runCli([...args], { cwd: dir, env });
const history = (): HistoryEvent[] =>
  readFileSync(join(dir, '.rollout', 'e2e.history.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as HistoryEvent);
const actions = () => history().map((e) => `${e.action} ${e.from}→${e.to}`);

beforeEach(async () => {
  service = await startFakeService();
  dir = mkdtempSync(join(tmpdir(), 'rollout-e2e-'));
  writeFileSync(join(dir, 'rollout.yaml'), servicePlan(service));
});
afterEach(async () => {
  await service.close();
});

describe('advance', () => {
  it('walks 0 → 10 → 25 → 50 → 75 → 100 and completes, recording every step with actor and readings', async () => {
    for (const percent of [10, 25, 50, 75, 100]) {
      const r = await rollout('advance', '--yes');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`→ ${percent}%`);
      expect(service.percentage).toBe(percent);
    }
    const done = await rollout('advance', '--yes');
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/complete/);
    expect(actions()).toEqual(['start 0→10', 'advance 10→25', 'advance 25→50', 'advance 50→75', 'advance 75→100', 'complete 100→100']);
    const events = history();
    expect(events.every((e) => e.actor === 'alice' && e.plan === 'e2e')).toBe(true);
    expect(events[0]?.verdict).toBe('skipped');
    expect(events[1]?.metrics).toEqual({ error_rate: 0.001, p95_latency: 0.2 });
    expect(events[1]?.verdict).toBe('healthy');
    expect((await rollout('advance', '--yes')).stdout).toMatch(/already complete/);
    expect(JSON.stringify(events)).not.toContain('app-secret-token');
  });

  it('--force --reason overrides a hold and is recorded as force', async () => {
    await rollout('advance', '--yes');
    service.metrics = { errorRate: 0.02, p95: 0.2 };
    expect((await rollout('advance', '--yes', '--force')).code).toBe(2);
    const r = await rollout('advance', '--yes', '--force', '--reason', 'known noisy alert');
    expect(r.code).toBe(0);
    expect(service.percentage).toBe(25);
    expect(history().at(-1)).toMatchObject({ action: 'force', from: 10, to: 25, reason: expect.stringContaining('known noisy alert') });
  });

  it('a critical verdict exits 4 and suggests the rollback command', async () => {
    await rollout('advance', '--yes');
    service.metrics = { errorRate: 0.09, p95: 0.2 };
    const r = await rollout('advance', '--yes');
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/critical: not advancing — error_rate 9% breaches critical > 5%/);
    expect(r.stdout).toContain('rollout rollback');
    expect(service.percentage).toBe(10);
  });

  it('a metrics source that is down never advances (exit 3, no data with its reason)', async () => {
    await rollout('advance', '--yes');
    service.metrics = null;
    const r = await rollout('advance', '--yes');
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/error_rate has no data \(HTTP 503/);
    expect(service.percentage).toBe(10);
  });

  it('in CI without --yes it is an error naming the flag, and nothing changes', async () => {
    const r = await rollout('advance');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes');
    expect(service.percentage).toBe(0);
  });

  it('refuses on drift (exit 5, recorded) and --adopt takes the target as the truth', async () => {
    await rollout('advance', '--yes');
    service.percentage = 40;
    const refused = await rollout('advance', '--yes');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/drift: state says 10%, target says 40%/);
    expect(refused.stderr).toContain('--adopt');
    expect(service.percentage).toBe(40);
    const adopted = await rollout('advance', '--yes', '--adopt');
    expect(adopted.code).toBe(0);
    expect(service.percentage).toBe(50);
    expect(actions()).toEqual(['start 0→10', 'drift 10→40', 'drift 10→40', 'advance 40→50']);
  });

  it('two concurrent advances: one applies, the other exits 5 naming the holder', async () => {
    // The winner is held mid-apply until the other has tried and given up, however slowly either starts.
    const release = service.holdNextPut();
    const runs = ['ana', 'bo'].map((actor) => runCli(['advance', '--yes'], { cwd: dir, env: { ...env, ROLLOUT_ACTOR: actor } }));
    await Promise.race(runs);
    release();
    const [a, b] = await Promise.all(runs);
    if (!a || !b) throw new Error('two runs were started');
    const codes = [a.code, b.code].sort();
    expect(codes).toEqual([0, 5]);
    const loser = a.code === 5 ? a : b;
    const winner = a.code === 5 ? 'bo' : 'ana';
    expect(loser.stderr).toMatch(new RegExp(`locked by ${winner} \\(pid \\d+`));
    expect(service.puts).toEqual([10]);
    expect(actions()).toEqual(['start 0→10']);
  });
});

describe('notifications', () => {
  it('advance, drift, hold and rollback are sent to a signed webhook; a dead Slack never fails the command', async () => {
    const received: { action: string; signature: string }[] = [];
    const receiver = await startTestServer((req, res) => {
      received.push({ action: (JSON.parse(req.body) as { action: string }).action, signature: String(req.headers['x-rollout-signature']) });
      res.writeHead(204).end();
    });
    const deadPort = await closedPort();
    try {
      writeFileSync(
        join(dir, 'rollout.yaml'),
        servicePlan(service, {
          extra: `notify:\n  - { type: webhook, url: "${receiver.url}/hook", secret: "\${HOOK_SECRET}", on: [start, advance, drift, hold, rollback] }\n  - { type: slack, url: "http://127.0.0.1:${deadPort}/services/T0/B0/xyz" }\n`,
        }),
      );
      const withHook = { ...env, HOOK_SECRET: 'hook-secret-value' };
      const first = await runCli(['advance', '--yes'], { cwd: dir, env: withHook });
      expect(first.code).toBe(0);
      expect(first.stderr).toMatch(/warning: notification to slack .* failed/);
      service.percentage = 30;
      expect((await runCli(['advance', '--yes'], { cwd: dir, env: withHook })).code).toBe(5);
      expect((await runCli(['advance', '--yes', '--adopt'], { cwd: dir, env: withHook })).code).toBe(0);
      expect((await runCli(['hold', '--reason', 'lunch'], { cwd: dir, env: withHook })).code).toBe(0);
      expect((await runCli(['rollback', '--yes'], { cwd: dir, env: withHook })).code).toBe(0);
      expect(received.map((r) => r.action)).toEqual(['start', 'drift', 'drift', 'advance', 'hold', 'rollback']);
      expect(received.every((r) => /^sha256=[0-9a-f]{64}$/.test(r.signature))).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});

describe('hold and resume', () => {
  it('a hold blocks advance until resumed', async () => {
    await rollout('advance', '--yes');
    expect((await rollout('hold')).code).toBe(2);
    expect((await rollout('hold', '--reason', 'investigating')).code).toBe(0);
    const held = await rollout('advance', '--yes');
    expect(held.code).toBe(3);
    expect(held.stdout).toMatch(/paused by alice: investigating/);
    expect((await rollout('resume')).code).toBe(0);
    expect((await rollout('advance', '--yes')).code).toBe(0);
    expect(actions()).toEqual(['start 0→10', 'hold 10→10', 'resume 10→10', 'advance 10→25']);
  });
});

describe('rollback', () => {
  it('rolls back to rollback.to after confirmation (--yes), and reverts a completed rollout', async () => {
    for (let i = 0; i < 6; i++) await rollout('advance', '--yes');
    expect(service.percentage).toBe(100);
    const r = await rollout('rollback', '--yes', '--reason', 'customer reports');
    expect(r.code).toBe(0);
    expect(service.percentage).toBe(0);
    expect(history().at(-1)).toMatchObject({ action: 'rollback', from: 100, to: 0, reason: 'customer reports', actor: 'alice' });
    const again = await rollout('advance', '--yes');
    expect(again.code).toBe(0);
    expect(service.percentage).toBe(10);
  });

  it('--to previous goes one stage back', async () => {
    await rollout('advance', '--yes');
    await rollout('advance', '--yes');
    expect((await rollout('rollback', '--yes', '--to', 'previous')).code).toBe(0);
    expect(service.percentage).toBe(10);
  });

  it('--emergency works with the metrics source down: 0 %, emergency calls, recorded', async () => {
    await rollout('advance', '--yes');
    await rollout('advance', '--yes');
    service.metrics = null;
    const r = await rollout('rollback', '--emergency');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/EMERGENCY ROLLBACK e2e: 25% → 0%/);
    expect(service.percentage).toBe(0);
    expect(service.server.requests.some((q) => q.method === 'POST' && q.url === '/flag/disable')).toBe(true);
    expect(service.server.requests.filter((q) => q.url === '/metrics.json').length).toBe(1);
    expect(history().at(-1)).toMatchObject({ action: 'emergency-rollback', from: 25, to: 0, verdict: 'skipped' });
  });

  it('--emergency works with a corrupt state file and overwrites it', async () => {
    await rollout('advance', '--yes');
    writeFileSync(join(dir, '.rollout', 'e2e.json'), '{ this is not json');
    const status = await rollout('advance', '--yes');
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('rollback --emergency');
    const r = await rollout('rollback', '--emergency');
    expect(r.code).toBe(0);
    expect(service.percentage).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, '.rollout', 'e2e.json'), 'utf8'))).toMatchObject({ percent: 0, rolledBack: true });
    expect((await rollout('advance', '--yes')).code).toBe(0);
  });
});

describe('status, check, history, report', () => {
  it('status shows stage, percent, metrics and the next action; --exit-code follows the verdict', async () => {
    const before = await rollout('status');
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/e2e {2}not started/);
    expect(before.stdout).toMatch(/next: start: `rollout advance` applies 10%/);
    await rollout('advance', '--yes');
    service.metrics = { errorRate: 0.02, p95: 0.2 };
    const r = await rollout('status', '--exit-code');
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/stage 1\/5 at 10%/);
    expect(r.stdout).toMatch(/error_rate .*2%.*> 1%.*> 5%.*warning/);
    expect(r.stdout).toMatch(/next: hold: error_rate 2% breaches warning > 1%/);
    const json = JSON.parse((await rollout('status', '--json')).stdout);
    expect(json).toMatchObject({ plan: 'e2e', stage: 1, stages: 5, percent: 10, verdict: 'hold', target: { percent: 10, drift: false } });
  });

  it('status --watch refreshes every interval until interrupted (exit 130)', async () => {
    await rollout('advance', '--yes');
    const watching = startCli(['status', '--watch', '--interval', '500ms', '--json'], { cwd: dir, env });
    await expect.poll(() => service.server.requests.filter((q) => q.url === '/metrics.json').length, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(4);
    service.metrics = { errorRate: 0.09, p95: 0.2 };
    // Two more reads: the first was answered critical, and the second began after it was printed.
    const flippedAt = service.server.requests.filter((q) => q.url === '/metrics.json').length;
    await expect.poll(() => service.server.requests.filter((q) => q.url === '/metrics.json').length, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(flippedAt + 2);
    watching.child.kill('SIGINT');
    const r = await watching.result;
    expect(r.code).toBe(130);
    // JSON lines: one document per refresh, and the interrupt as a last error document.
    const documents = r.stdout.trim().split('\n').map((doc) => JSON.parse(doc) as { plan?: string; verdict?: string; exitCode?: number });
    expect(documents.at(-1)).toMatchObject({ kind: 'error', exitCode: 130, message: expect.stringContaining('interrupted') });
    const snapshots = documents.filter((d) => d.plan === 'e2e');
    expect(snapshots.length).toBeGreaterThanOrEqual(4);
    expect(snapshots[0]?.verdict).toBe('healthy');
    expect(snapshots.at(-1)?.verdict).toBe('critical');
  });

  it('in GitHub Actions, check and advance annotate warnings and criticals', async () => {
    await rollout('advance', '--yes');
    service.metrics = { errorRate: 0.02, p95: 4 };
    const github = { ...env, GITHUB_ACTIONS: 'true' };
    const check = await runCli(['check'], { cwd: dir, env: github });
    expect(check.code).toBe(4);
    expect(check.stderr).toContain('::warning title=rollout e2e%3A error_rate warning::error_rate 2%25: breaches warning > 1%25');
    expect(check.stderr).toContain('::error title=rollout e2e%3A p95_latency critical::p95_latency 4s: breaches critical > 3s');
    const advance = await runCli(['advance', '--yes'], { cwd: dir, env: github });
    expect(advance.code).toBe(4);
    expect(advance.stderr).toContain('::error title=rollout e2e%3A p95_latency critical::');
    expect((await rollout('check')).stderr).not.toContain('::');
  });

  it('check judges once and changes nothing: 0 healthy, 3 hold, 4 critical', async () => {
    expect((await rollout('check')).code).toBe(0);
    service.metrics = { errorRate: 0.02, p95: 0.2 };
    expect((await rollout('check')).code).toBe(3);
    service.metrics = { errorRate: 0.2, p95: 0.2 };
    const r = await rollout('check', '--json');
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'critical', exitCode: 4 });
    expect(service.puts).toEqual([]);
  });

  it('history and report show what happened, per stage, in every format', async () => {
    await rollout('advance', '--yes');
    await rollout('advance', '--yes');
    await rollout('rollback', '--yes', '--reason', 'p95 regression');
    const h = await rollout('history');
    expect(h.stdout).toMatch(/start[\s\S]*advance[\s\S]*rollback/);
    expect(JSON.parse((await rollout('history', '--json')).stdout).events).toHaveLength(3);
    const md = (await rollout('report')).stdout;
    expect(md).toMatch(/\| 1 \| 10% \|.*\| alice \|.*advanced to 25%/);
    expect(md).toMatch(/\| 2 \| 25% \|.*rollback to 0%.*p95 regression/);
    const junit = (await rollout('report', '--format', 'junit')).stdout;
    expect(junit).toMatch(/<testsuite name="e2e" tests="2" failures="1">/);
    expect(junit).toMatch(/name="stage 2 \(25%\), attempt 1"[^>]*><failure message="rollback to 0% by alice"/);
    expect(JSON.parse((await rollout('report', '--format', 'json')).stdout).stages).toHaveLength(2);
  });
});
