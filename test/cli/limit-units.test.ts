/** Limits in the wrong unit through the CLI: `validate` and `init` apply the same rule (src/plan/limit-checks.ts). */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const VALID = readFileSync(new URL('../fixtures/plans/valid.yaml', import.meta.url), 'utf8');
const env = { PROM_TOKEN: 'tok-123' };

function planDir(unit: string, warning: string, critical: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-units-'));
  writeFileSync(join(dir, 'rollout.yaml'), VALID.replace('unit: ratio', `unit: ${unit}`).replace('warning: "> 1%"', `warning: "${warning}"`).replace('critical: "> 5%"', `critical: "${critical}"`));
  return dir;
}

describe('rollout validate: limits in the metric unit', () => {
  it('a ratio limit of 5 (meant as 5 %) is exit 2 at file:line:col, naming 0.05', async () => {
    const r = await runCli(['validate'], { cwd: planDir('ratio', '> 0.01', '> 5'), env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rollout\.yaml:21:15: limit "> 5" is above 1, the most a metric in ratio reads .* — did you mean "> 0\.05" \(5%\)\?/);
    expect(r.stderr).not.toMatch(/swap/);
  });

  it('a percent limit over 100 and a negative seconds limit are exit 2', async () => {
    expect((await runCli(['validate'], { cwd: planDir('percent', '> 50', '> 150'), env })).stderr).toMatch(/rollout\.yaml:21:15: limit "> 150" is above 100/);
    const negative = await runCli(['validate'], { cwd: planDir('seconds', '> -2', '> 1'), env });
    expect(negative.code).toBe(2);
    expect(negative.stderr).toMatch(/rollout\.yaml:20:14: limit "> -2" is below 0/);
  });

  it('the edges are valid: ratio ">= 1", percent "> 100" only warns', async () => {
    const ratio = await runCli(['validate'], { cwd: planDir('ratio', '> 0.5', '>= 1'), env });
    expect(ratio.code).toBe(0);
    expect(ratio.stderr).toBe('');
    const percent = await runCli(['validate'], { cwd: planDir('percent', '> 50', '> 100'), env });
    expect(percent.code).toBe(0);
    expect(percent.stderr).toMatch(/^warning: \.\/rollout\.yaml:21:15: limit "> 100" can never fire/m);
  });

  it('500 seconds is a warning at file:line:col: validate still exits 0', async () => {
    const r = await runCli(['validate'], { cwd: planDir('seconds', '> 0.3', '> 500'), env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: \.\/rollout\.yaml:21:15: limit "> 500" is 500s, unlikely for a metric in seconds — did you mean "> 0\.5" \(500ms\)\?/m);
    expect(r.stdout).toMatch(/is valid/);
  });

  it('mixed units in a pair name the number meant, not a swap', async () => {
    const r = await runCli(['validate'], { cwd: planDir('milliseconds', '> 300', '> 1'), env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rollout\.yaml:21:15: critical "> 1" is less strict than warning "> 300" — the units look mixed up, not the values: critical "> 1" is 1ms; did you mean "> 1000" \(1s\)\?/);
    const swapped = await runCli(['validate'], { cwd: planDir('milliseconds', '> 900', '> 500'), env });
    expect(swapped.stderr).toMatch(/critical is the worse condition: swap the two values/);
  });

  it('an unknown key gets a "did you mean" at its line', async () => {
    const dir = planDir('ratio', '> 1%', '> 5%');
    writeFileSync(join(dir, 'rollout.yaml'), readFileSync(join(dir, 'rollout.yaml'), 'utf8').replace('  failureLimit: 2', '  failurLimit: 2'));
    const r = await runCli(['validate'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rollout\.yaml:9:3: unknown key "failurLimit" in analysis — did you mean `failureLimit`\?/);
  });
});

describe('rollout init: the same limit rule', () => {
  const base = ['init', '--name', 'x', '--target', 'env-file', '--key', 'X', '--stages', '10,100', '--bake', '10s', '--source', 'prometheus', '--source-url', 'http://127.0.0.1:9090'];

  it('refuses an error-rate limit of 5 (a ratio), naming 0.05, and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-units-'));
    const r = await runCli([...base, '--error-rate-critical', '> 5'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--error-rate-critical "> 5": limit "> 5" is above 1.*did you mean "> 0\.05" \(5%\)\?/);
    expect(existsSync(join(dir, 'rollout.yaml'))).toBe(false);
  });

  it('refuses a limit below 0 and a percent-as-ratio pair hint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-units-'));
    expect((await runCli([...base, '--p95-latency-warning', '> -1'], { cwd: dir })).stderr).toMatch(/--p95-latency-warning "> -1": limit "> -1" is below 0/);
    const swapped = await runCli([...base, '--error-rate-warning', '> 5%', '--error-rate-critical', '> 1%'], { cwd: dir });
    expect(swapped.stderr).toMatch(/--error-rate-critical "> 1%": critical "> 1%" is less strict than warning "> 5%" \(critical is the worse condition: swap the two values\)/);
  });

  it('writes a plan with an implausible latency limit, warning at its line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-units-'));
    const r = await runCli([...base, '--metrics', 'p95_latency', '--p95-latency-warning', '> 0.3', '--p95-latency-critical', '> 500'], { cwd: dir });
    expect(r.code).toBe(0);
    const line = readFileSync(join(dir, 'rollout.yaml'), 'utf8').split('\n').findIndex((l) => l.includes('critical: "> 500"')) + 1;
    expect(line).toBeGreaterThan(0);
    expect(r.stderr).toMatch(new RegExp(`^warning: rollout\\.yaml:${line}:\\d+: limit "> 500" is 500s, unlikely for a metric in seconds`, 'm'));
  });
});
