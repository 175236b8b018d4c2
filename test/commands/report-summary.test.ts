/** `rollout report` under GitHub Actions appends the deployment log to the job's step summary, as `run` does. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { servicePlan, startFakeService, type FakeService } from '../helpers/fake-service.js';

let service: FakeService;
let dir: string;
const env = { APP_TOKEN: 'app-secret-token' };

beforeAll(async () => {
  service = await startFakeService();
  dir = mkdtempSync(join(tmpdir(), 'rollout-report-'));
  writeFileSync(join(dir, 'rollout.yaml'), servicePlan(service));
  expect((await runCli(['advance', '--yes'], { cwd: dir, env })).code).toBe(0);
});
afterAll(() => service.close());

it('appends the Markdown log to $GITHUB_STEP_SUMMARY whatever the printed format', async () => {
  const summary = join(dir, 'summary.md');
  writeFileSync(summary, '## earlier step\n');
  const r = await runCli(['report', '--format', 'junit'], { cwd: dir, env: { ...env, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary } });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^<\?xml/);
  const text = readFileSync(summary, 'utf8');
  expect(text.startsWith('## earlier step\n# Deployment log: e2e\n')).toBe(true);
  expect(text).toMatch(/\| 1 \| 10% \|/);
});

it('writes no summary outside GitHub Actions', async () => {
  for (const actions of [undefined, 'false']) {
    const summary = join(dir, `summary-${actions}.md`);
    const r = await runCli(['report'], { cwd: dir, env: { ...env, GITHUB_STEP_SUMMARY: summary, ...(actions && { GITHUB_ACTIONS: actions }) } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# Deployment log: e2e');
    expect(existsSync(summary)).toBe(false);
  }
});

it('after a rollback and a new start, the summary holds only the new attempt, numbered by the plan', async () => {
  // A service of its own: the flag the other tests advanced would read as drift here.
  const ownService = await startFakeService();
  try {
    const own = mkdtempSync(join(tmpdir(), 'rollout-report-'));
    writeFileSync(join(own, 'rollout.yaml'), servicePlan(ownService));
    for (const args of [['advance', '--yes'], ['rollback', '--yes', '--reason', 'first try'], ['advance', '--yes']]) {
      expect((await runCli(args, { cwd: own, env })).code, args.join(' ')).toBe(0);
    }
    const summary = join(own, 'summary.md');
    const r = await runCli(['report', '--format', 'junit'], { cwd: own, env: { ...env, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary } });
    expect(r.stdout).toContain('name="stage 1 (10%), attempt 1"');
    expect(r.stdout).toContain('name="stage 1 (10%), attempt 2"');
    const text = readFileSync(summary, 'utf8');
    expect(text).toMatch(/^\| 1 \| 10% \| 2 \| /m);
    expect(text).not.toMatch(/^\| 1 \| 10% \| 1 \| /m);
    expect(text).not.toContain('first try');
  } finally {
    await ownService.close();
  }
});
