import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlan } from '../../src/plan/load-plan.js';
import { Secrets } from '../../src/plan/secrets.js';
import type { Plan } from '../../src/plan/types.js';
import { runCli } from '../helpers/cli.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'rollout-init-'));
}

/** Runs `rollout init` non-interactively (CI=true, no TTY) in `dir`. */
async function init(dir: string, args: string[]) {
  return runCli(['init', ...args], { cwd: dir });
}

/** Loads the written plan through the real loader, as `rollout validate` would. */
function load(file: string, env: NodeJS.ProcessEnv = {}): Promise<Plan> {
  return loadPlan(file, { env, secrets: new Secrets() });
}

const PROMETHEUS = ['--source', 'prometheus', '--source-url', 'http://127.0.0.1:9090'];

describe('rollout init (non-interactive)', () => {
  it('env-file target: writes a plan that validates, with the schema header and the runbook limits', async () => {
    const dir = tempDir();
    const r = await init(dir, ['--name', 'ai-models', '--target', 'env-file', '--env-path', '.env', '--key', 'OPENROUTER_ROLLOUT_PERCENTAGE', '--stages', '10,50,100', '--bake', '48h', ...PROMETHEUS]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote rollout\.yaml: ai-models, stages 10 → 50 → 100%, bake 48h, 3 metrics from prometheus, env-file target/);
    const file = join(dir, 'rollout.yaml');
    const text = readFileSync(file, 'utf8');
    const header = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text);
    expect(header).not.toBeNull();
    expect(existsSync(resolve(dir, header?.[1] ?? ''))).toBe(true);

    const plan = await load(file);
    expect(plan.name).toBe('ai-models');
    expect(plan.stages.map((s) => [s.percent, s.bakeMs])).toEqual([[10, 48 * 3600_000], [50, 48 * 3600_000], [100, 48 * 3600_000]]);
    expect(plan.target).toMatchObject({ type: 'env-file', path: join(dir, '.env'), key: 'OPENROUTER_ROLLOUT_PERCENTAGE' });
    expect(plan.metrics.map((m) => [m.name, m.unit, m.warning?.text, m.critical?.text])).toEqual([
      ['error_rate', 'ratio', '> 1%', '> 5%'],
      ['p95_latency', 'seconds', '> 5s', '> 10s'],
      ['avg_response_time', 'seconds', '> 3s', '> 5s'],
    ]);
    expect(plan.sources.app).toMatchObject({ type: 'prometheus', url: 'http://127.0.0.1:9090' });
    expect(plan.analysis).toMatchObject({ intervalMs: 30_000, warmupMs: 60_000, failureLimit: 2, noData: 'hold' });
  });

  it('http target: secrets are ${VAR} references, never values, and read-back is on by default', async () => {
    const dir = tempDir();
    const r = await init(dir, [
      '--name', 'checkout-v2', '--target', 'http', '--flag-url', 'https://flags.example.com/api/flags/checkout', '--flag-method', 'PATCH', '--flag-token-env', 'FLAG_TOKEN',
      ...PROMETHEUS, '--source-token-env', 'PROM_TOKEN', '--metrics', 'error_rate',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('export PROM_TOKEN=');
    expect(r.stdout).toContain('export FLAG_TOKEN=');
    const file = join(dir, 'rollout.yaml');
    expect(readFileSync(file, 'utf8')).toContain('Bearer ${FLAG_TOKEN}');
    const plan = await load(file, { FLAG_TOKEN: 'flag-secret', PROM_TOKEN: 'prom-secret' });
    expect(plan.target).toMatchObject({
      type: 'http',
      set: { method: 'PATCH', url: 'https://flags.example.com/api/flags/checkout', headers: { Authorization: 'Bearer flag-secret' }, body: { percentage: '{{percent}}' } },
      get: { url: 'https://flags.example.com/api/flags/checkout', path: 'percentage' },
    });
    expect(plan.sources.app).toMatchObject({ headers: { Authorization: 'Bearer prom-secret' } });
    expect(plan.metrics.map((m) => m.name)).toEqual(['error_rate']);
    // An unset variable is the loader's error, naming it: the plan does not smuggle in a default.
    await expect(load(file, { PROM_TOKEN: 'x' })).rejects.toThrow(/FLAG_TOKEN is not set/);
  });

  it('http target without read-back', async () => {
    const dir = tempDir();
    const r = await init(dir, ['--name', 'x', '--target', 'http', '--flag-url', 'http://127.0.0.1:8080/flag', '--read-back-path', 'none', '--source', 'none', '--bake', '10s']);
    expect(r.code).toBe(0);
    const plan = await load(join(dir, 'rollout.yaml'));
    // A short trial bake gets a short poll and warm-up, not the 30s and 1m of real bakes.
    expect(plan.analysis).toMatchObject({ intervalMs: 1000, warmupMs: 3000 });
    expect(plan.target).toMatchObject({ type: 'http', set: { method: 'PUT' } });
    expect((plan.target as { get?: unknown }).get).toBeUndefined();
    expect(plan.metrics).toEqual([]);
  });

  it('unleash target: the token comes from UNLEASH_API_TOKEN unless told otherwise', async () => {
    const dir = tempDir();
    const r = await init(dir, [
      '--name', 'checkout', '--target', 'unleash', '--unleash-url', 'https://unleash.example.com', '--feature', 'checkout-v2', '--environment', 'staging',
      '--source', 'json', '--source-url', 'https://app.example.com/api/metrics/summary', '--metrics', 'error_rate,avg_response_time', '--stages', '5,20,100', '--bake', '2h',
    ]);
    expect(r.code).toBe(0);
    const plan = await load(join(dir, 'rollout.yaml'), { UNLEASH_API_TOKEN: 'unleash-secret' });
    expect(plan.target).toMatchObject({ type: 'unleash', url: 'https://unleash.example.com', token: 'unleash-secret', project: 'default', feature: 'checkout-v2', environment: 'staging' });
    expect(plan.stages.map((s) => s.percent)).toEqual([5, 20, 100]);
    expect(plan.metrics.map((m) => [m.name, m.query, m.unit])).toEqual([
      ['error_rate', 'errorRate', 'ratio'],
      ['avg_response_time', 'avgResponseTime', 'milliseconds'],
    ]);
  });

  it('command target: the command lines become argv, quotes grouping words', async () => {
    const dir = tempDir();
    const r = await init(dir, [
      '--name', 'metadata', '--target', 'command', '--set-command', 'flagctl set "metadata tracking" {{percent}}', '--get-command', 'flagctl get "metadata tracking"',
      '--source', 'exposition', '--source-url', 'http://127.0.0.1:3000/metrics', '--p95-latency-warning', '> 200ms', '--p95-latency-critical', '> 1s',
    ]);
    expect(r.code).toBe(0);
    const plan = await load(join(dir, 'rollout.yaml'));
    expect(plan.target).toMatchObject({ type: 'command', set: ['flagctl', 'set', 'metadata tracking', '{{percent}}'], get: ['flagctl', 'get', 'metadata tracking'] });
    expect(plan.sources.app).toMatchObject({ type: 'exposition' });
    const p95 = plan.metrics.find((m) => m.name === 'p95_latency');
    expect(p95).toMatchObject({ unit: 'seconds', warning: { text: '> 200ms', value: 0.2 }, critical: { text: '> 1s', value: 1 } });
    expect(p95?.query).toContain('histogram_quantile(0.95');
  });

  it('--json prints what was written', async () => {
    const dir = tempDir();
    const r = await init(dir, ['--name', 'x', '--target', 'env-file', '--key', 'X_PERCENT', '--source', 'none', '--json', '--output', 'plans/x.yaml']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ file: 'plans/x.yaml', name: 'x', stages: [10, 25, 50, 75, 100], bake: '30m', target: 'env-file', source: null, metrics: [] });
    expect((await load(join(dir, 'plans/x.yaml'))).name).toBe('x');
  });

  it('refuses to overwrite an existing plan without --force', async () => {
    const dir = tempDir();
    const file = join(dir, 'rollout.yaml');
    writeFileSync(file, 'mine\n');
    const args = ['--name', 'x', '--target', 'env-file', '--key', 'X', '--source', 'none'];
    const r = await init(dir, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rollout\.yaml already exists[\s\S]*--force/);
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
    expect((await init(dir, [...args, '--force'])).code).toBe(0);
    expect((await load(file)).name).toBe('x');
  });

  it('without a terminal, a missing answer is exit 2 naming its flag', async () => {
    const dir = tempDir();
    const cases: Array<[string[], string]> = [
      [[], '--name'],
      [['--name', 'x'], '--target'],
      [['--name', 'x', '--target', 'env-file'], '--key'],
      [['--name', 'x', '--target', 'http'], '--flag-url'],
      [['--name', 'x', '--target', 'unleash'], '--unleash-url'],
      [['--name', 'x', '--target', 'unleash', '--unleash-url', 'https://u.example.com'], '--feature'],
      [['--name', 'x', '--target', 'command'], '--set-command'],
      [['--name', 'x', '--target', 'env-file', '--key', 'X'], '--source'],
      [['--name', 'x', '--target', 'env-file', '--key', 'X', '--source', 'json'], '--source-url'],
    ];
    for (const [args, flag] of cases) {
      const r = await init(dir, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`error: ${flag} is required without a terminal`);
      expect(r.stderr).toContain(`hint: pass ${flag} <value>`);
    }
    expect(existsSync(join(dir, 'rollout.yaml'))).toBe(false);
  });

  it('rejects bad answers given as flags, naming the flag', async () => {
    const dir = tempDir();
    const base = ['--name', 'x', '--target', 'env-file', '--key', 'X', '--source', 'prometheus', '--source-url', 'http://127.0.0.1:9090'];
    const cases: Array<[string[], RegExp]> = [
      [['--name', 'Bad Name'], /--name "Bad Name": use lower-case letters/],
      [['--target', 'ftp'], /--target "ftp" is not one of env-file, http, unleash, command/],
      [['--stages', '10,5,100'], /--stages "10,5,100": stages must go up/],
      [['--stages', '10,50'], /--stages "10,50": the last stage must be 100/],
      [['--bake', 'soon'], /--bake "soon": expected a duration/],
      [['--metrics', 'error_rate,cpu'], /--metrics: unknown cpu/],
      [['--error-rate-critical', '> 0.5%'], /--error-rate-critical "> 0.5%": critical "> 0.5%" is less strict than warning "> 1%"/],
      [['--source-url', 'https://user:pw@prom.example.com'], /--source-url .*credentials/],
      [['--source-token-env', 'not a name'], /--source-token-env "not a name": expected an environment variable name/],
    ];
    for (const [override, message] of cases) {
      const r = await init(dir, [...base, ...override]);
      expect(r.code, override.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(join(dir, 'rollout.yaml'))).toBe(false);
  });

  it('writes the schema header relative to where the plan goes', async () => {
    const dir = tempDir();
    const r = await init(dir, ['--name', 'x', '--target', 'env-file', '--key', 'X', '--source', 'none', '--output', 'deploy/plans/x.yaml']);
    expect(r.code).toBe(0);
    const file = join(dir, 'deploy/plans/x.yaml');
    const ref = /\$schema=(\S+)/.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
    expect(JSON.parse(readFileSync(resolve(dirname(file), ref), 'utf8'))).toMatchObject({ title: 'rollout plan' });
  });
});
