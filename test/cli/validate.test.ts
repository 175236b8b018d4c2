import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const VALID = readFileSync(new URL('../fixtures/plans/valid.yaml', import.meta.url), 'utf8');

describe('rollout validate', () => {
  it('exits 0 for a valid plan and summarises it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-validate-'));
    writeFileSync(join(dir, 'rollout.yaml'), VALID);
    const r = await runCli(['validate'], { cwd: dir, env: { PROM_TOKEN: 'tok-123' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rollout\.yaml is valid: checkout-v2, stages 10 → 50 → 100%, 1 metric, env-file target/);
  });

  it('exits 2 naming every problem with file:line:col, and never prints a secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-validate-'));
    const broken = VALID.replace('interval: 30s', 'interval: soon').replace('failureLimit: 2', 'failureLimit: ${PROM_TOKEN}').replace('critical: "> 5%"', 'critical: "> 0.5%"');
    writeFileSync(join(dir, 'broken.yaml'), broken);
    const r = await runCli(['validate', 'broken.yaml'], { cwd: dir, env: { PROM_TOKEN: 'tok-123' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('3 problems in the plan');
    expect(r.stderr).toMatch(/broken\.yaml:8:13: analysis\.interval: expected a duration/);
    expect(r.stderr).toMatch(/broken\.yaml:9:17: analysis\.failureLimit should be a number, not string "\*\*\*"/);
    expect(r.stderr).toMatch(/broken\.yaml:21:15: critical "> 0\.5%" is less strict than warning "> 1%"/);
    expect(r.stderr).not.toContain('tok-123');
  });

  it('--json prints one validate document listing the problem located, and the exit code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-validate-'));
    const r = await runCli(['validate', 'missing.yaml', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({
      kind: 'validate',
      valid: false,
      exitCode: 2,
      problems: [{ file: 'missing.yaml', line: 1, column: 1, message: expect.stringContaining('cannot read the plan: no such file') }],
    });
  });

  it('exits 2 for unknown commands and options, suggesting the closest command', async () => {
    const r = await runCli(['valdate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'valdate'[\s\S]*Did you mean validate\?/);
    expect((await runCli(['validate', '--frobnicate'])).code).toBe(2);
  });

  it('shows the commands when run without arguments, and the version', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Plans:\n {2}validate/);
    const v = await runCli(['--version']);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
  });
});

describe('rollout schema', () => {
  it('prints the checked-in JSON Schema', async () => {
    const r = await runCli(['schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(new URL('../../schema/rollout-plan.schema.json', import.meta.url), 'utf8')));
  });
});

describe('the example plans', () => {
  const dir = new URL('../../rollout-plans/', import.meta.url);
  const plans = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  // The variables the examples read from the environment.
  const env = Object.fromEntries(
    [...new Set(plans.flatMap((f) => [...readFileSync(new URL(f, dir), 'utf8').matchAll(/(?<!\$)\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1] as string)))].map((v) => [v, `example-${v.toLowerCase()}`]),
  );

  it('there are at least four', () => {
    expect(plans.length).toBeGreaterThanOrEqual(4);
  });

  it.each(plans)('%s validates', async (file) => {
    const r = await runCli(['validate', `rollout-plans/${file}`], { cwd: new URL('../..', import.meta.url).pathname, env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('exposition expressions', () => {
  it('are parsed at validation, and a syntax error is named with its line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-validate-'));
    writeFileSync(
      join(dir, 'rollout.yaml'),
      `version: 1
name: scraped
stages: [50, 100]
sources: { page: { type: exposition, url: "http://127.0.0.1:9/metrics" } }
metrics:
  - { name: ok_expr, source: page, expr: 'sum(increase(http_requests_total{status=~"5.."}))', critical: "> 5" }
  - { name: bad_expr, source: page, expr: 'sum(rate(http_requests_total[5m])', critical: "> 5" }
target: { type: command, set: [echo, "{{percent}}"] }
`,
    );
    const r = await runCli(['validate'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rollout\.yaml:7:\d+: cannot parse expression: /);
    expect(r.stderr).not.toMatch(/:6:\d+:/);
  });
});
