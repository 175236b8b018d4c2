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
