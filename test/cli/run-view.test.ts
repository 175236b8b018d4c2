/** `rollout run`'s output: the live view's block and redraw, plain log lines, JSON lines, GitHub annotations. */
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { judgePoll } from '../../src/analysis/judge.js';
import type { RunEvent } from '../../src/analysis/run-loop.js';
import { annotation, annotationFor } from '../../src/cli/github-actions.js';
import { memoryOutput } from '../../src/cli/output.js';
import { runEventDocument } from '../../src/cli/json-documents.js';
import { createRunView, progressBar, renderLiveBlock } from '../../src/cli/run-view.js';
import { formatLogTime, formatTime } from '../../src/time.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plan.js';

const plan = await planFromYaml(`
version: 1
name: view
stages: [10, 50, 100]
analysis: { interval: 30s, bake: 10m }
sources: { app: { type: json, url: "http://127.0.0.1:9/m" } }
metrics:
  - { name: error_rate, source: app, path: e, unit: ratio, warning: "> 1%", critical: "> 5%" }
target: { type: command, set: [echo, "{{percent}}"] }
`);
const clock = new FakeClock();
const judgement = judgePoll(plan, [{ name: 'error_rate', value: 0.02 }]);
const poll: Extract<RunEvent, { type: 'poll' }> = {
  type: 'poll',
  stageIndex: 1,
  percent: 50,
  enteredAt: clock.now() - 4 * 60_000,
  bakeMs: 10 * 60_000,
  bakeLeftMs: 6 * 60_000,
  verdict: judgement.verdict,
  reasons: judgement.reasons,
  readings: judgement.readings,
  decision: 'hold',
  reason: judgement.reasons.join('; '),
  consecutiveCritical: 0,
};
const rollback: RunEvent = {
  type: 'event',
  event: { time: '2025-03-01T09:30:00.000Z', plan: 'view', actor: 'ci', action: 'rollback', from: 50, to: 0, verdict: 'critical', metrics: { error_rate: 0.09 }, reason: 'error_rate 9% breaches critical > 5% (critical 2/2)' },
};

const color = memoryOutput().color;
const polled = { poll: { view: poll, at: clock.now() } };

describe('the live view', () => {
  it('shows stage, a bake bar with time left, the metric table and the last decision', () => {
    const block = renderLiveBlock(plan, polled, clock.now(), color);
    const lines = block.split('\n');
    expect(lines[0]).toBe('rollout run · view · 50% (stage 2/3)');
    expect(lines[1]).toBe(`bake [${progressBar(0.4)}] 40%  6m left`);
    expect(block).toMatch(/error_rate .*2(\.0+)?%.*> 1%.*> 5%.*warning/);
    expect(lines.at(-1)).toBe('last decision (0ms ago): HOLD → hold: error_rate 2% breaches warning > 1%');
  });

  it('moves the bar between polls', () => {
    const later = renderLiveBlock(plan, polled, clock.now() + 3 * 60_000, color);
    expect(later.split('\n')[1]).toBe(`bake [${progressBar(0.7)}] 70%  3m left`);
  });

  it('is compact below 100 columns: no "rollout run", a short bar, one metric a line, the decision alone', () => {
    const lines = renderLiveBlock(plan, polled, clock.now(), color, { compact: true }).split('\n');
    expect(lines).toEqual([
      'view · 50% (stage 2/3)',
      `bake [${progressBar(0.4, 10)}] 40%  6m left`,
      'error_rate 2% warning (warn > 1%, crit > 5%)',
      'HOLD → hold: error_rate 2% breaches warning > 1%',
    ]);
  });

  it('after a move the stage is the event\'s, not the last poll\'s; the end shows the final state', () => {
    const moved = renderLiveBlock(plan, { ...polled, moved: (rollback as Extract<RunEvent, { type: 'event' }>).event }, clock.now(), color);
    expect(moved.split('\n')[0]).toBe('rollout run · view · rollback 50% → 0%');
    expect(moved).not.toMatch(/bake \[/);
    const end = (outcome: 'rolled-back' | 'complete' | 'timeout', percent: number) =>
      renderLiveBlock(plan, { ...polled, end: { type: 'run-end', outcome, exitCode: 0, percent, stageIndex: plan.stages.findIndex((s) => s.percent === percent), reason: 'why' } }, clock.now(), color).split('\n');
    expect(end('rolled-back', 0)[0]).toBe('rollout run · view · rolled back to 0% · exit 0');
    expect(end('complete', 100)[0]).toBe('rollout run · view · complete at 100% (stage 3/3) · exit 0');
    expect(end('timeout', 50)[0]).toBe('rollout run · view · timed out at 50% (stage 2/3) · exit 0');
    expect(end('complete', 100).join('\n')).not.toMatch(/bake|last decision|HOLD/);
  });

  it('prints the end in full below the last frame, and draws nothing after it', async () => {
    const out = memoryOutput({ isTTY: true, terminalSize: () => ({ columns: 40, rows: 24 }), utc: true });
    const view = await createRunView(plan, out, clock);
    view.show(poll);
    const reason = 'interrupted: the target is at 50% (stage 2/3), as state records. Continue with `rollout run`';
    view.show({ type: 'run-end', outcome: 'interrupted', exitCode: 130, percent: 50, stageIndex: 1, reason });
    const lastFrame = out.stdout.at(-2)!;
    expect(lastFrame).toContain('view · interrupted at 50% (stage 2/3) ·…');
    expect(out.stdout.at(-1)).toBe(`${formatTime(clock.now(), true)} run ended: interrupted at 50% (exit 130): ${reason}\n`);
    const written = out.stdout.length;
    view.show(poll);
    view.close();
    expect(out.stdout).toHaveLength(written);
  });

  it('closed without an end (an error stopped the run), the last frame no longer claims the polled stage', async () => {
    const out = memoryOutput({ isTTY: true, terminalSize: () => ({ columns: 120, rows: 24 }) });
    const view = await createRunView(plan, out, clock);
    view.show(poll);
    view.close();
    const lastFrame = out.stdout.at(-1)!;
    expect(lastFrame).toContain('rollout run · view · stopped: see the error below');
    expect(lastFrame).not.toMatch(/50% \(stage 2\/3\)|bake \[|last decision/);
  });

  it('redraws in place with every line cut to the terminal width, logs events above the block', async () => {
    const out = memoryOutput({ isTTY: true, terminalSize: () => ({ columns: 40, rows: 24 }) });
    const view = await createRunView(plan, out, clock);
    view.show(poll);
    const first = out.stdout.join('');
    for (const line of first.trimEnd().split('\n')) expect([...stripVTControlCharacters(line)].length).toBeLessThanOrEqual(40);
    expect(first).toContain('…');
    const height = first.trimEnd().split('\n').length;
    out.stdout.length = 0;
    view.show(rollback);
    const redraw = out.stdout.join('');
    // Erases the block it drew (each row, cursor up), then the log line, then the block again.
    expect(redraw.split('\x1b[2K').length - 1).toBeGreaterThanOrEqual(height);
    expect(redraw).toMatch(/rollback 50% → 0% by ci: error_rate 9%[^\n]*\n/);
    expect(redraw.slice(redraw.indexOf('rollback 50%'))).toContain('view · rollback 50% → 0%');
    view.close();
  });
});

describe('plain and JSON lines', () => {
  it('prints one timestamped line per event without a terminal', async () => {
    const out = memoryOutput();
    const view = await createRunView(plan, out, clock);
    view.show(poll);
    view.show(rollback);
    expect(out.stdout).toEqual([
      `${formatLogTime(clock.now())} 50% (stage 2/3) HOLD → hold: error_rate 2% breaches warning > 1% [error_rate 2% warning]\n`,
      `${formatLogTime(clock.now())} rollback 50% → 0% by ci: error_rate 9% breaches critical > 5% (critical 2/2)\n`,
    ]);
  });

  it('prints one JSON object per line with --json; history events keep their own fields', async () => {
    const out = memoryOutput({ json: true });
    (await createRunView(plan, out, clock)).show(rollback);
    expect(out.stdout).toHaveLength(1);
    expect(out.stdout[0]!.trimEnd()).not.toContain('\n');
    expect(JSON.parse(out.stdout[0]!)).toEqual({ schemaVersion: 1, kind: 'event', verdict: null, stage: null, ...(rollback as Extract<RunEvent, { type: 'event' }>).event });
    expect(runEventDocument(plan, poll, 0)).toMatchObject({ schemaVersion: 1, kind: 'poll', time: '1970-01-01T00:00:00.000Z', stage: 2, stages: 3, percent: 50 });
  });
});

describe('GitHub Actions annotations', () => {
  it('escapes workflow command data and properties', () => {
    expect(annotation('error', 'a: b, 5%', 'line 1\nline 2 at 5%')).toBe('::error title=a%3A b%2C 5%25::line 1%0Aline 2 at 5%25');
  });

  it('warns on holds and timeouts, errs on rollbacks and failed recoveries, ignores the rest', () => {
    expect(annotationFor(plan, rollback)).toBe('::error title=rollout view rolled back 50%25 → 0%25::error_rate 9%25 breaches critical > 5%25 (critical 2/2)');
    expect(annotationFor(plan, { type: 'recovery', recovered: false, reason: 'still bad', watchedMs: 60_000 })).toMatch(/^::error title=rollout view not recovered/);
    expect(annotationFor(plan, { type: 'recovery', recovered: true, reason: 'ok', watchedMs: 60_000 })).toBeUndefined();
    expect(annotationFor(plan, { type: 'run-end', outcome: 'timeout', exitCode: 3, percent: 50, stageIndex: 1, reason: '--timeout reached' })).toMatch(/^::warning title=rollout view stopped at 50%25::/);
    expect(annotationFor(plan, { type: 'run-end', outcome: 'complete', exitCode: 0, percent: 100, stageIndex: 2, reason: 'done' })).toBeUndefined();
    expect(annotationFor(plan, poll)).toBeUndefined();
  });
});
