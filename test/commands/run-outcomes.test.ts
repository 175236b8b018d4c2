/**
 * How `rollout run` ends when things go wrong, end to end: the built CLI against a real local flag
 * API whose metrics follow a script of one answer per read (so timing never decides what a poll
 * sees), with state in a temp dir. A warning between two criticals, a canary that stays bad after
 * the rollback, and a flag API that fails mid-run.
 */
import { describe, expect, it } from 'vitest';
import type { CliResult } from '../helpers/cli.js';
import { servicePlan } from '../helpers/fake-service.js';
import { useServiceRollout } from '../helpers/service-rollout.js';

const HEALTHY = { errorRate: 0.001, p95: 0.2 };
const WARNING = { errorRate: 0.02, p95: 0.2 };
const CRITICAL = { errorRate: 0.2, p95: 0.2 };

const world = useServiceRollout('run-outcomes', { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'ci-bot' }, (service, receiver) =>
  servicePlan(service, { stages: '[10, 50, 100]', extra: `notify:\n  - { type: webhook, url: "${receiver.url}/hook", on: [rollback, recovered, not-recovered] }\n` }),
);

type Line = Record<string, unknown> & { kind: string };
const run = () => world.rollout(['run', '--json']);
const jsonLines = (r: CliResult): Line[] => r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
/** History without the hold events, which mark each hold as it begins. */
const moves = () => world.moves().filter((m) => !m.startsWith('hold '));

describe('rollout run, when the metrics or the target go wrong', () => {
  it('a warning between two criticals resets the count: failureLimit 2 is never reached, and the rollout completes', async () => {
    world.service.metricsQueue = [CRITICAL, WARNING, CRITICAL, WARNING, CRITICAL, HEALTHY];
    const r = await run();
    expect(r.code, r.stderr).toBe(0);
    const counts = jsonLines(r).filter((l) => l.kind === 'poll').map((l) => `${String(l.verdict)} ${String(l.consecutiveCritical)}`);
    expect(counts.slice(0, 5)).toEqual(['critical 1', 'hold 0', 'critical 1', 'hold 0', 'critical 1']);
    expect(world.service.puts).toEqual([10, 50, 100]);
    expect(moves()).toEqual(['start 0→10', 'advance 10→50', 'advance 50→100', 'complete 100→100']);
  });

  it('a canary still critical after the rollback: exit 4, a not-recovered event, recorded and notified', async () => {
    world.service.metrics = CRITICAL;
    const r = await run();
    expect(r.code, r.stderr).toBe(4);
    expect(world.service.puts).toEqual([10, 0]);
    const lines = jsonLines(r);
    expect(lines.find((l) => l.kind === 'recovery')).toMatchObject({ recovered: false, reason: expect.stringMatching(/still critical: error_rate 20% breaches critical > 5%/) });
    expect(lines.at(-1)).toMatchObject({ kind: 'run-end', outcome: 'rolled-back', exitCode: 4, percent: 0 });
    expect(moves()).toEqual(['start 0→10', 'rollback 10→0', 'not-recovered 0→0']);
    expect(world.history().at(-1)).toMatchObject({ action: 'not-recovered', verdict: 'critical', metrics: { error_rate: 0.2 } });
    expect(world.delivered()).toEqual(['rollback', 'not-recovered']);
  });

  it('a canary healthy again after the rollback: a recovered event, recorded and notified', async () => {
    world.service.metricsQueue = [CRITICAL, CRITICAL, HEALTHY];
    const r = await run();
    expect(r.code, r.stderr).toBe(4);
    expect(jsonLines(r).find((l) => l.kind === 'recovery')).toMatchObject({ recovered: true });
    expect(moves()).toEqual(['start 0→10', 'rollback 10→0', 'recovered 0→0']);
    expect(world.delivered()).toEqual(['rollback', 'recovered']);
  });

  it('a flag API that refuses the next stage mid-run: exit 6, the target put back, nothing recorded as applied', async () => {
    world.service.refusePut = (percent) => percent === 50;
    const r = await run();
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/^error: applying 50% failed: .*503.* — the target was put back to 10%; state is unchanged$/m);
    expect(world.service.percentage).toBe(10);
    expect(world.service.puts).toEqual([10, 10]);
    expect(world.state()).toMatchObject({ percent: 10, stageIndex: 0 });
    expect(moves()).toEqual(['start 0→10']);
    expect(r.stdout + r.stderr).not.toContain('app-secret-token');
  });
});
