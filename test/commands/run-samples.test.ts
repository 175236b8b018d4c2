/**
 * The poll log end to end: `rollout run` (the built CLI) keeps every poll, `status` draws its trend
 * from it, `run --report-html` writes the chart page (named in the GitHub step summary), and a
 * poll log that cannot be written costs a warning, never the rollout.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sparkline } from '../../src/cli/sparkline.js';
import { createFileStore } from '../../src/state/file-store.js';
import type { MetricSample } from '../../src/state/samples.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { servicePlan, startFakeService, type FakeService } from '../helpers/fake-service.js';
import { sampleAt } from '../state/store-contract.js';

const env = { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'ci-bot' };

let service: FakeService;
let dir: string;

const rollout = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: dir, env: { ...env, ...extraEnv } });
type Line = Record<string, unknown> & { kind: string };
const jsonLines = (r: CliResult): Line[] => r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
const samplesFile = () => join(dir, '.rollout', 'e2e.samples.jsonl');
const storedSamples = (): MetricSample[] => readFileSync(samplesFile(), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as MetricSample);

beforeEach(async () => {
  service = await startFakeService();
  dir = mkdtempSync(join(tmpdir(), 'rollout-samples-'));
  // A bake of 2 s at 1 s intervals: several polls per stage, and history records only the moves.
  writeFileSync(join(dir, 'rollout.yaml'), servicePlan(service, { stages: '[10, 100]', bake: '2s' }));
});
afterEach(async () => {
  await service.close();
});

describe('the poll log', () => {
  it('run keeps every poll, with the percentage and readings of each', async () => {
    const r = await rollout(['run', '--json']);
    expect(r.code).toBe(0);
    const polls = jsonLines(r).filter((l) => l.kind === 'poll') as Array<Line & { percent: number; verdict: string; readings: Array<{ name: string; value: number }> }>;
    const samples = storedSamples();
    expect(polls.length).toBeGreaterThanOrEqual(4);
    expect(samples.map((s) => [s.percent, s.verdict, s.metrics])).toEqual(
      polls.map((p) => [p.percent, p.verdict, Object.fromEntries(p.readings.map((reading) => [reading.name, reading.value]))]),
    );
    const history = readFileSync(join(dir, '.rollout', 'e2e.history.jsonl'), 'utf8').trim().split('\n');
    expect(samples.length).toBeGreaterThan(history.length - 1);
    expect(readFileSync(samplesFile(), 'utf8')).not.toContain('app-secret-token');
  });

  it('status draws its trend from the poll log', async () => {
    expect((await rollout(['advance', '--yes'])).code).toBe(0);
    const store = createFileStore({ dir: join(dir, '.rollout'), plan: 'e2e' });
    const rising = Array.from({ length: 12 }, (_, i) => i / 100);
    await store.appendSamples(rising.map((rate, i) => sampleAt(i, { percent: 10, metrics: { error_rate: rate, p95_latency: 0.2 } })));
    const r = await rollout(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`│ error_rate .*│ ${sparkline(rising)} │`));
    expect(sparkline(rising)).toMatch(/^▁.{10}█$/u);
  });

  it('run --report-html writes the chart page and names it in the GitHub step summary', async () => {
    const summary = join(dir, 'summary.md');
    const page = join(dir, 'rollout.html');
    const r = await rollout(['run', '--report-html', page], { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary });
    expect(r.code).toBe(0);
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('<span class="badge">completed at 100%</span>');
    expect(html).toContain('<section class="metric" data-metric="error_rate">');
    expect(html).toMatch(new RegExp(`${storedSamples().length} polls kept by \`rollout run\``));
    expect(html).not.toContain('app-secret-token');
    expect(readFileSync(summary, 'utf8')).toContain(`The report with charts is in \`${page}\`: upload it as an artifact to keep it.`);
  });

  it('a poll log or report that cannot be written is a warning; the rollout goes on', async () => {
    // A directory where the poll log's file should be: every append fails.
    mkdirSync(samplesFile(), { recursive: true });
    const r = await rollout(['run', '--report-html', join(dir, 'missing', 'rollout.html')]);
    expect(r.code).toBe(0);
    expect(service.puts).toEqual([10, 100]);
    expect(r.stderr.match(/warning: readings not kept for the report's charts: .*EISDIR/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/warning: the poll log could not be read \(.*EISDIR.*\); the charts show the readings in history only/);
    expect(r.stderr).toMatch(/warning: the HTML report was not written to .*missing\/rollout\.html: .*ENOENT/);
  });
});
