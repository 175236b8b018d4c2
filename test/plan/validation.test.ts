/** Each validation rule, as a broken plan: the problem must be named with its line and a hint. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PlanError } from '../../src/errors.js';
import { parsePlan } from '../../src/plan/load-plan.js';
import type { PlanProblem } from '../../src/errors.js';
import { Secrets } from '../../src/plan/secrets.js';

const VALID = readFileSync(new URL('../fixtures/plans/valid.yaml', import.meta.url), 'utf8');
const env = { PROM_TOKEN: 'tok-123' };

/** Replaces `from` (which must occur) in the valid plan. */
const edit = (from: string, to: string): string => {
  if (!VALID.includes(from)) throw new Error(`fixture lacks ${from}`);
  return VALID.replace(from, to);
};

async function problemsOf(text: string, environment: NodeJS.ProcessEnv = env) {
  try {
    await parsePlan(text, 'plan.yaml', { env: environment, secrets: new Secrets() });
  } catch (err) {
    if (err instanceof PlanError) return err.problems;
    throw err;
  }
  return [];
}

describe('the valid fixture', () => {
  it('loads into a typed plan', async () => {
    const plan = await parsePlan(VALID, '/tmp/x/plan.yaml', { env, secrets: new Secrets() });
    expect(plan.stages).toEqual([
      { percent: 10, bakeMs: 1_800_000, approval: false },
      { percent: 50, bakeMs: 3_600_000, approval: false },
      { percent: 100, bakeMs: 7_200_000, approval: true },
    ]);
    expect(plan.metrics[0]).toMatchObject({ unit: 'ratio', warning: { op: '>', value: 0.01 }, critical: { value: 0.05 }, noData: 'hold' });
    expect(plan.target).toMatchObject({ type: 'env-file', path: '/tmp/x/.env', key: 'ROLLOUT_PERCENTAGE' });
    expect(plan.analysis).toMatchObject({ intervalMs: 30_000, failureLimit: 2, maxHoldMs: 86_400_000, warmupMs: 0 });
    expect(plan.sources.prom).toMatchObject({ headers: { Authorization: 'Bearer tok-123' }, timeoutMs: 5000 });
  });

  it('accepts shorthand stages with analysis.bake as their bake', async () => {
    const plan = await parsePlan(
      edit('stages:\n  - { percent: 10, bake: 30m }\n  - { percent: 50, bake: 1h }\n  - { percent: 100, bake: 2h, approval: true }', 'stages: [10, 25, 100]').replace('interval: 30s', 'interval: 30s\n  bake: 48h'),
      'p.yaml',
      { env, secrets: new Secrets() },
    );
    expect(plan.stages.map((s) => [s.percent, s.bakeMs])).toEqual([[10, 172_800_000], [25, 172_800_000], [100, 172_800_000]]);
  });
});

// [rule, broken plan, line, message pattern]
const RULES: [string, string, number, RegExp][] = [
  ['unknown top-level key', `${VALID}colour: blue\n`, 26, /unknown key "colour"/],
  ['unknown nested key', edit('  failureLimit: 2', '  failureLimit: 2\n  failurLimit: 3'), 10, /unknown key "failurLimit" in analysis/],
  ['wrong type', edit('failureLimit: 2', 'failureLimit: two'), 9, /analysis\.failureLimit should be a number, not string "two"/],
  ['missing required key', edit('name: checkout-v2\n', ''), 1, /missing name/],
  ['bad name', edit('name: checkout-v2', 'name: Checkout V2'), 2, /lower-case letters/],
  ['wrong version', edit('version: 1', 'version: 2'), 1, /version: number 2 is not allowed/],
  ['stages not ascending', edit('{ percent: 50, bake: 1h }', '{ percent: 5, bake: 1h }'), 5, /does not go above stage 1/],
  ['stages equal', edit('{ percent: 50, bake: 1h }', '{ percent: 10, bake: 1h }'), 5, /does not go above/],
  ['last stage not 100', edit('{ percent: 100, bake: 2h, approval: true }', '{ percent: 90, bake: 2h }'), 6, /the last stage is 90%, not 100%/],
  ['stage above 100', edit('{ percent: 100, bake: 2h, approval: true }', '{ percent: 150 }'), 6, /stages\.2\.percent/],
  ['stage below 1', edit('{ percent: 10, bake: 30m }', '{ percent: 0, bake: 30m }'), 4, /stages\.0\.percent/],
  ['unknown source', edit('    source: prom', '    source: prometheus'), 17, /unknown source "prometheus"/],
  ['malformed JSON path', edit('  prom:\n    type: prometheus', '  app: { type: json, url: "http://127.0.0.1:9/m" }\n  prom:\n    type: prometheus').replace('    source: prom\n    query: sum(rate(errors[5m])) / sum(rate(requests[5m]))', '    source: app\n    path: items[x].rate'), 19, /invalid path items\[x\]\.rate: \[ at 6 must hold an array index/],
  ['query field of another source type', edit('    query: sum', '    path: a.b\n    query: sum'), 18, /`path` does not apply to prometheus source "prom"/],
  ['missing query', edit('    query: sum(rate(errors[5m])) / sum(rate(requests[5m]))\n', ''), 16, /missing `query` for prometheus source/],
  ['limits pointing different ways', edit('critical: "> 5%"', 'critical: "< 5%"'), 21, /point different ways/],
  ['critical less strict than warning', edit('critical: "> 5%"', 'critical: "> 0.5%"'), 21, /less strict than warning/],
  ['relative limit without baseline', edit('critical: "> 5%"', 'critical: "> +20%"'), 21, /needs a baseline/],
  ['limit unit not fitting the metric', edit('warning: "> 1%"', 'warning: "> 3s"'), 20, /"s" does not apply to a metric in ratio/],
  ['malformed limit', edit('warning: "> 1%"', 'warning: "over 1%"'), 20, /expected a limit/],
  ['metric without limits', edit('    warning: "> 1%"\n    critical: "> 5%"\n', ''), 16, /neither warning nor critical/],
  ['duplicate metric', `${VALID.replace('target:', '  - name: error_rate\n    source: prom\n    query: up\n    critical: "> 1"\ntarget:')}`, 22, /defined twice/],
  ['unknown source type', edit('type: prometheus', 'type: graphite'), 12, /unknown sources\.prom\.type "graphite"/],
  ['unknown target type', edit('type: env-file', 'type: launchdarkly'), 23, /unknown target\.type "launchdarkly"/],
  ['missing target type', edit('  type: env-file\n', ''), 23, /missing target\.type/],
  ['bad duration', edit('interval: 30s', 'interval: 30 seconds'), 8, /expected a duration/],
  ['duration without unit', edit('interval: 30s', 'interval: 30'), 8, /30 has no unit/],
  ['unset variable', VALID, 14, /environment variable PROM_TOKEN is not set/],
  ['minRequests without requests', edit('  failureLimit: 2', '  failureLimit: 2\n  minRequests: 100'), 10, /`minRequests` needs `requests`/],
  ['rollback.to not a stage', `${VALID}rollback: { to: 30 }\n`, 26, /rollback\.to is 30%, which is not a stage/],
  ['duplicate key', edit('  interval: 30s', '  interval: 30s\n  interval: 1m'), 9, /Map keys must be unique/],
  ['YAML syntax', edit('name: checkout-v2', 'name: checkout: v2'), 2, /Nested mappings/],
  ['not a mapping', '- 1\n- 2\n', 1, /must be a YAML mapping/],
  ['alias bomb', 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n', 1, /unsafe or unreadable YAML/],
  ['huge document', `# ${'x'.repeat(1024 * 1024 + 10)}\n`, 1, /over the \d+-byte limit/],
  ['name longer than a file name allows', edit('name: checkout-v2', `name: ${'a'.repeat(300)}`), 2, /^name: at most 100 characters: the name is part of the state files' names$/],
  ['too many items to parse quickly', `${VALID}x: [${'1,'.repeat(30_000)}1]\n`, 1, /^the plan has over 20000 YAML tokens/],
];

describe('every rule is reported with its line and a hint', () => {
  it.each(RULES)('%s', async (_rule, text, line, message) => {
    const problems = await problemsOf(text, _rule === 'unset variable' ? {} : env);
    const match = problems.find((p) => message.test(p.message));
    expect(match, `problems were: ${JSON.stringify(problems, null, 1)}`).toBeDefined();
    expect(match?.line).toBe(line);
    expect(match?.file).toBe('plan.yaml');
    expect(match?.col).toBeGreaterThan(0);
    if (!/YAML syntax|duplicate key/.test(_rule)) expect(match?.hint?.length).toBeGreaterThan(0);
  });

  it('collects every problem of a plan at once', async () => {
    const text = edit('interval: 30s', 'interval: 30').replace('failureLimit: 2', 'failureLimit: two').replace('type: env-file', 'type: nope');
    const problems = await problemsOf(text);
    expect(problems.map((p) => p.line)).toEqual([8, 9, 23]);
  });

  it('lists the first 50 problems and counts the rest', async () => {
    const stages = 'stages:\n  - { percent: 10, bake: 30m }\n  - { percent: 50, bake: 1h }\n  - { percent: 100, bake: 2h, approval: true }';
    const problems = await problemsOf(edit(stages, `stages: [${'0, '.repeat(199)}0]`));
    expect(problems).toHaveLength(51);
    expect(problems[50]?.message).toMatch(/^and \d+ more problems from here on$/);
  });

  it('never prints a secret in a problem', async () => {
    const text = edit('failureLimit: 2', 'failureLimit: ${PROM_TOKEN}');
    const problems = await problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/should be a number, not string "\*\*\*"/);
    expect(new PlanError(problems).message).not.toContain('tok-123');
  });
});

describe('warnings', () => {
  it('a secret too short to redact is a warning naming the variable and where it is used', async () => {
    const warnings: PlanProblem[] = [];
    const plan = await parsePlan(VALID, 'plan.yaml', { env: { PROM_TOKEN: 'z9' }, secrets: new Secrets(), onWarning: (w) => warnings.push(w) });
    expect(plan.sources.prom).toMatchObject({ headers: { Authorization: 'Bearer z9' } });
    expect(warnings).toEqual([
      {
        file: 'plan.yaml',
        line: 14,
        col: expect.any(Number),
        message: 'secret ${PROM_TOKEN} is 2 characters; too short to redact safely',
        hint: expect.stringMatching(/hidden only within the longer text around it/),
      },
    ]);
  });

  it('a secret of 3 characters or more is no warning', async () => {
    const warnings: PlanProblem[] = [];
    await parsePlan(VALID, 'plan.yaml', { env: { PROM_TOKEN: 'z9z' }, secrets: new Secrets(), onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);
  });
});
