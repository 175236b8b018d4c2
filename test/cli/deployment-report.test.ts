/** The deployment report numbers attempts by the plan's stages and shows readings in their units; the step summary shows the rollout under way. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReport, stageRecords } from '../../src/cli/deployment-report.js';
import { appendStepSummary } from '../../src/cli/github-actions.js';
import { reportDocument } from '../../src/cli/json-documents.js';
import { createOutput } from '../../src/cli/output.js';
import type { EventAction } from '../../src/plan/types.js';
import type { HistoryEvent } from '../../src/state/types.js';
import { planFromYaml } from '../helpers/plan.js';

const plan = await planFromYaml(`
version: 1
name: four
stages: [10, 25, 50, 100]
sources:
  prom: { type: prometheus, url: "http://127.0.0.1:9" }
metrics:
  - { name: error_rate, source: prom, query: errors, unit: ratio, warning: "> 2%", critical: "> 5%" }
  - { name: p95, source: prom, query: p95, unit: seconds, warning: "> 1", critical: "> 2" }
target: { type: command, set: [echo, "{{percent}}"] }
`);

let minute = 0;
const event = (action: EventAction, from: number, to: number, metrics: HistoryEvent['metrics'] = {}): HistoryEvent => ({
  time: new Date(Date.UTC(2026, 0, 1, 12, minute++)).toISOString(),
  plan: 'four',
  actor: 'ci',
  action,
  from,
  to,
  metrics,
  reason: `${action} ${to}`,
});

// Two attempts: the first rolled back at 25 %, the second goes to 100 % (and an old stage value the plan no longer has).
const history: HistoryEvent[] = [
  event('start', 0, 10),
  event('advance', 10, 25),
  event('rollback', 25, 0, { error_rate: 0.1496, p95: 0.85 }),
  event('start', 0, 10),
  event('advance', 10, 25, { error_rate: 0.004, p95: 0.3 }),
  event('advance', 25, 50),
  event('advance', 50, 100),
  event('complete', 100, 100, { error_rate: 0.0123, p95: 1.5, renamed: 0.5 }),
];

describe('stage numbering', () => {
  it('numbers by the plan stage, with the attempt within it', () => {
    expect(stageRecords(history, plan).map((s) => [s.stage, s.percent, s.attempt])).toEqual([
      [1, 10, 1],
      [2, 25, 1],
      [1, 10, 2],
      [2, 25, 2],
      [3, 50, 1],
      [4, 100, 1],
    ]);
  });

  it('a percentage the plan no longer has gets no stage number', () => {
    const [record] = stageRecords([event('start', 0, 30)], plan);
    expect(record).toMatchObject({ stage: null, percent: 30, attempt: 1 });
    expect(renderReport(plan, [event('start', 0, 30)], 'junit')).toContain('name="stage — (30%), attempt 1"');
  });

  it('a start while a stage is live (history kept across a state reset) ends that stage as such', () => {
    expect(renderReport(plan, [event('start', 0, 25), event('start', 0, 10)], 'markdown')).toMatch(/^\| 2 \| 25% \| 1 \| .*\| started again at 10% \|/m);
  });

  it('junit: one test case per attempt, named by stage and attempt, never beyond the plan', () => {
    const xml = renderReport(plan, history, 'junit');
    const names = [...xml.matchAll(/<testcase [^>]*name="([^"]+)"/g)].map((m) => m[1]);
    expect(names).toEqual([
      'stage 1 (10%), attempt 1',
      'stage 2 (25%), attempt 1',
      'stage 1 (10%), attempt 2',
      'stage 2 (25%), attempt 2',
      'stage 3 (50%), attempt 1',
      'stage 4 (100%), attempt 1',
    ]);
    expect(xml).not.toMatch(/stage [5-9]/);
  });

  it('markdown: stage of the plan, percent and attempt columns', () => {
    const text = renderReport(plan, history, 'markdown');
    expect(text).toContain('| stage (of 4) | percent | attempt |');
    expect(text).toMatch(/^\| 2 \| 25% \| 2 \| /m);
    expect(text).toMatch(/^\| 4 \| 100% \| 1 \| .*completed/m);
    expect(text).not.toMatch(/^\| [5-9] \|/m);
  });

  it('json: each stage carries its plan stage number and attempt', () => {
    const report = reportDocument(plan, history) as unknown as { stages: { stage: number; attempt: number; percent: number }[] };
    expect(report.stages.map((s) => `${s.stage}/${s.attempt}`)).toEqual(['1/1', '2/1', '1/2', '2/2', '3/1', '4/1']);
  });
});

describe('readings in their units', () => {
  it.each(['markdown', 'junit'] as const)('%s: as the status table shows them, not raw', (format) => {
    const text = renderReport(plan, history, format);
    expect(text).toContain('error_rate 14.96%');
    expect(text).toContain('p95 850ms');
    expect(text).toContain('error_rate 1.23%, p95 1.5s');
    expect(text).toContain('renamed 0.5'); // no longer in the plan: a plain number
    expect(text).not.toMatch(/0\.1496|error_rate=/);
  });
});

describe('the GitHub step summary', () => {
  it('shows the rollout under way, from its start event, numbered as the full report', async () => {
    const summary = join(mkdtempSync(join(tmpdir(), 'rollout-summary-')), 'summary.md');
    const out = createOutput({ color: false });
    await appendStepSummary(plan, history, { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary }, out);
    const text = readFileSync(summary, 'utf8');
    const rows = text.split('\n').filter((line) => /^\| \d/.test(line));
    expect(rows.map((row) => row.split(' | ').slice(0, 3).join(' | '))).toEqual(['| 1 | 10% | 2', '| 2 | 25% | 2', '| 3 | 50% | 1', '| 4 | 100% | 1']);
    expect(text).not.toContain('rollback');
    expect(text).not.toContain('14.96%');
  });

  it('without a start event (history of a rollout begun elsewhere), shows all of it', async () => {
    const summary = join(mkdtempSync(join(tmpdir(), 'rollout-summary-')), 'summary.md');
    await appendStepSummary(plan, history.slice(1, 3), { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary }, createOutput({ color: false }));
    expect(readFileSync(summary, 'utf8')).toMatch(/^\| 2 \| 25% \| 1 \| .*rollback to 0%/m);
  });
});

const repro = await planFromYaml(`
version: 1
name: repro
stages: [10, 50, 100]
analysis: { bake: 1s }
target: { type: env-file, path: .env, key: APP_PERCENT }
`);

describe('every event of a rollout rolled back after completing, then at 0 %', () => {
  // `run` to complete, `rollback --to previous` twice, `advance` (held: no event), `rollback --emergency`,
  // then what may follow at 0 %; a hold, resume and drift while stage 1 is live again.
  const moves: [EventAction, number, number, string][] = [
    ['start', 0, 10, 'ci'],
    ['advance', 10, 50, 'ci'],
    ['advance', 50, 100, 'ci'],
    ['complete', 100, 100, 'ci'],
    ['rollback', 100, 50, 'alice'],
    ['rollback', 50, 10, 'bob'],
    ['hold', 10, 10, 'bob'],
    ['drift', 10, 40, 'bob'],
    ['resume', 10, 10, 'bob'],
    ['emergency-rollback', 10, 0, 'carol'],
    ['not-recovered', 0, 0, 'carol'],
    ['rollback', 0, 0, 'dave'],
    ['emergency-rollback', 0, 0, 'dave'],
    ['recovered', 0, 0, 'dave'],
  ];
  const events = moves.map(([action, from, to, actor], n): HistoryEvent => ({ ...event(action, from, to), plan: 'repro', actor, reason: `event #${n}` }));
  const others = ['hold', 'drift', 'resume', 'not-recovered', 'rollback', 'emergency-rollback', 'recovered'];

  it('markdown: a row per attempt, ended by what ended it; the rest under Other events', () => {
    const text = renderReport(repro, events, 'markdown');
    const rows = text.split('\n').filter((line) => /^\| \d/.test(line)).map((row) => row.split(' | '));
    expect(rows.map((cells) => [cells[0], cells[2], cells[7]])).toEqual([
      ['| 1', '1', 'advanced to 50%'],
      ['| 2', '1', 'advanced to 100%'],
      ['| 3', '1', 'completed, then rollback to 50% by alice'],
      ['| 2', '2', 'rollback to 10% by bob'],
      ['| 1', '2', 'emergency rollback to 0% by carol'],
    ]);
    expect(rows[2]?.[8]).toBe('event #3; then event #4 |');
    const listed = text.slice(text.indexOf('## Other events')).split('\n').filter((line) => line.startsWith('- '));
    expect(listed.map((line) => /\*\*(\S+)\*\*/.exec(line)?.[1])).toEqual(others);
    expect(listed[1]).toContain('by bob 10% → 40%: event #7');
    // Each event's reason is told; the start's is its row's (entered, by) alone.
    for (const n of moves.keys()) if (n > 0) expect(text).toContain(`event #${n}`);
  });

  it('junit: a test case per attempt, failed by its rollback; the rest in the suite output', () => {
    const xml = renderReport(repro, events, 'junit');
    expect(xml).toContain('<testsuite name="repro" tests="5" failures="3">');
    const cases = [...xml.matchAll(/<testcase [^>]*name="([^"]+)"[^>]*>(?:<failure message="([^"]+)")?/g)].map((m) => [m[1], m[2]]);
    expect(cases).toEqual([
      ['stage 1 (10%), attempt 1', undefined],
      ['stage 2 (50%), attempt 1', undefined],
      ['stage 3 (100%), attempt 1', 'completed, then rollback to 50% by alice'],
      ['stage 2 (50%), attempt 2', 'rollback to 10% by bob'],
      ['stage 1 (10%), attempt 2', 'emergency rollback to 0% by carol'],
    ]);
    const suiteOut = /<\/testcase>\n {4}<system-out>([^<]*)<\/system-out>\n {2}<\/testsuite>/.exec(xml)?.[1] ?? '';
    expect(suiteOut.split('\n').map((line) => line.split(' ')[1])).toEqual(others);
    for (const n of moves.keys()) if (n > 0) expect(xml).toContain(`event #${n}`);
  });
});
