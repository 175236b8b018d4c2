/**
 * How `rollout run` ends when things go wrong, end to end: the built CLI against a real local flag
 * API whose metrics follow a script of one answer per read (so timing never decides what a poll
 * sees), with state in a temp dir. A warning between two criticals, a canary that stays bad after
 * the rollback, and a flag API that fails mid-run.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryEvent, RolloutState } from '../../src/state/types.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { servicePlan, startFakeService, type FakeService } from '../helpers/fake-service.js';
import { sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';

const env = { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'ci-bot' };
const HEALTHY = { errorRate: 0.001, p95: 0.2 };
const WARNING = { errorRate: 0.02, p95: 0.2 };
const CRITICAL = { errorRate: 0.2, p95: 0.2 };

let service: FakeService;
let receiver: TestServer;
let dir: string;

type Line = Record<string, unknown> & { type: string };
const run = () => runCli(['run', '--json'], { cwd: dir, env });
const jsonLines = (r: CliResult): Line[] => r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
const storedState = (): RolloutState => JSON.parse(readFileSync(join(dir, '.rollout', 'e2e.json'), 'utf8')) as RolloutState;
const history = (): HistoryEvent[] =>
  readFileSync(join(dir, '.rollout', 'e2e.history.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as HistoryEvent);
const moves = () => history().filter((e) => e.action !== 'hold').map((e) => `${e.action} ${e.from}→${e.to}`);
const delivered = () => receiver.requests.map((req) => (JSON.parse(req.body) as HistoryEvent).action);

beforeEach(async () => {
  service = await startFakeService();
  receiver = await startTestServer((_req, res) => sendJson(res, 200, {}));
  dir = mkdtempSync(join(tmpdir(), 'rollout-run-outcomes-'));
  writeFileSync(
    join(dir, 'rollout.yaml'),
    servicePlan(service, { stages: '[10, 50, 100]', extra: `notify:\n  - { type: webhook, url: "${receiver.url}/hook", on: [rollback, recovered, not-recovered] }\n` }),
  );
});
afterEach(async () => {
  await Promise.all([service.close(), receiver.close()]);
});

describe('rollout run, when the metrics or the target go wrong', () => {
  it('a warning between two criticals resets the count: failureLimit 2 is never reached, and the rollout completes', async () => {
    service.metricsQueue = [CRITICAL, WARNING, CRITICAL, WARNING, CRITICAL, HEALTHY];
    const r = await run();
    expect(r.code, r.stderr).toBe(0);
    const counts = jsonLines(r).filter((l) => l.type === 'poll').map((l) => `${String(l.verdict)} ${String(l.consecutiveCritical)}`);
    expect(counts.slice(0, 5)).toEqual(['critical 1', 'hold 0', 'critical 1', 'hold 0', 'critical 1']);
    expect(service.puts).toEqual([10, 50, 100]);
    expect(moves()).toEqual(['start 0→10', 'advance 10→50', 'advance 50→100', 'complete 100→100']);
  });

  it('a canary still critical after the rollback: exit 4, a not-recovered event, recorded and notified', async () => {
    service.metrics = CRITICAL;
    const r = await run();
    expect(r.code, r.stderr).toBe(4);
    expect(service.puts).toEqual([10, 0]);
    const lines = jsonLines(r);
    expect(lines.find((l) => l.type === 'recovery')).toMatchObject({ recovered: false, reason: expect.stringMatching(/still critical: error_rate 20% breaches critical > 5%/) });
    expect(lines.at(-1)).toMatchObject({ type: 'run-end', outcome: 'rolled-back', exitCode: 4, percent: 0 });
    expect(moves()).toEqual(['start 0→10', 'rollback 10→0', 'not-recovered 0→0']);
    expect(history().at(-1)).toMatchObject({ action: 'not-recovered', verdict: 'critical', metrics: { error_rate: 0.2 } });
    expect(delivered()).toEqual(['rollback', 'not-recovered']);
  });

  it('a canary healthy again after the rollback: a recovered event, recorded and notified', async () => {
    service.metricsQueue = [CRITICAL, CRITICAL, HEALTHY];
    const r = await run();
    expect(r.code, r.stderr).toBe(4);
    expect(jsonLines(r).find((l) => l.type === 'recovery')).toMatchObject({ recovered: true });
    expect(moves()).toEqual(['start 0→10', 'rollback 10→0', 'recovered 0→0']);
    expect(delivered()).toEqual(['rollback', 'recovered']);
  });

  it('a flag API that refuses the next stage mid-run: exit 6, the target put back, nothing recorded as applied', async () => {
    service.refusePut = (percent) => percent === 50;
    const r = await run();
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/^error: applying 50% failed: .*503.* — the target was put back to 10%; state is unchanged$/m);
    expect(service.percentage).toBe(10);
    expect(service.puts).toEqual([10, 10]);
    expect(storedState()).toMatchObject({ percent: 10, stageIndex: 0 });
    expect(moves()).toEqual(['start 0→10']);
    expect(r.stdout + r.stderr).not.toContain('app-secret-token');
  });
});
