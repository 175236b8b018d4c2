/**
 * Fault injection 10: plans a user could plausibly write, and break. 10,000 generated plans over
 * the whole format (coherent ones, half of them then broken in one or two places of their tree),
 * and mutated copies of every example plan in rollout-plans/ (edits of their text or tree), go
 * through the loader as the commands call it: each loads or fails with a PlanError whose every
 * problem has a line and column ≥ 1, no message repeats a `${VAR}` value, and no coherent plan is
 * rejected. A handful go through the built `rollout validate` too: exit 0 or 2, never 1.
 *
 * fast-check prints the seed of a failing run; FAULT_SEED=<n> replays it.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { PlanError } from '../../src/errors.js';
import { parsePlan, type LoadPlanOptions } from '../../src/plan/load-plan.js';
import { Secrets } from '../../src/plan/secrets.js';
import { runCli } from '../helpers/cli.js';
import { suiteSeed, tempDir } from './support.js';

const seed = suiteSeed('plan-fuzz');

/** `${VAR}`s the generated plans use; distinctive values, so a leak in a message is certain to show. */
const GENERATED_ENV = { PROM_TOKEN: 'prom-tok-9f2c1e', FLAG_URL: 'http://flags.internal:8181', APP_KEY: 'app-key-77ab30' };

const EXAMPLES_DIR = new URL('../../rollout-plans/', import.meta.url);
const EXAMPLES = readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => ({ file: f, text: readFileSync(new URL(f, EXAMPLES_DIR), 'utf8') }));
/** Every `${VAR}` the examples use, set to a distinctive value. */
const EXAMPLES_ENV = Object.fromEntries(
  [...new Set(EXAMPLES.flatMap((e) => [...e.text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1] ?? '')))].map((name, i) => [name, `secret-${name.toLowerCase()}-${i}x7`]),
);

type Outcome = 'valid' | 'invalid';

/**
 * Loads `text`: a plan, or a PlanError that locates every problem and keeps `${VAR}` values out of
 * its message. Anything else (a TypeError, a RangeError, an unlocated problem) fails the test.
 * `options` as the command loads it (`rollout validate` takes an unset `${VAR}` as a warning).
 */
async function load(text: string, env: Record<string, string>, options: Pick<LoadPlanOptions, 'unsetIsWarning'> = {}): Promise<Outcome> {
  try {
    await parsePlan(text, '/fuzz/rollout.yaml', { env, secrets: new Secrets(), ...options });
    return 'valid';
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    // Plain checks, not expect(): this runs some 30,000 times.
    const unlocated = err.problems.find((p) => !(p.line >= 1 && p.col >= 1 && p.message.length > 0));
    if (err.problems.length === 0 || unlocated) throw new Error(`a PlanError with a problem out of place: ${JSON.stringify(unlocated ?? err.problems)}`);
    const leaked = Object.values(env).find((value) => err.message.includes(value));
    if (leaked) throw new Error(`the message repeats the value of a \${VAR} (${leaked}): ${err.message}`);
    return 'invalid';
  }
}

// ---- Generated plans: coherent plans over the whole format, half of them then broken. ----

const junk = fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -5, max: 500 }), fc.double(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}));
/** An optional field: absent half the time. */
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });

const duration = fc.constantFrom('500ms', '30s', '1m', '5m', '1h30m', '2h', '48h', '7d', '0s');
/** A poll interval is 1s–1h; a timeout above 0 and at most 1h (issue 13: no timer may overflow). */
const interval = fc.constantFrom('1s', '30s', '1m', '5m', '1h');
const timeout = fc.constantFrom('500ms', '30s', '1m', '5m', '1h');
const url = fc.constantFrom('http://127.0.0.1:9090', 'https://app.example.com/api/metrics?lastMinutes=60', '${FLAG_URL}/flag', 'http://[::1]:8080/metrics');
const headers = maybe(fc.dictionary(fc.constantFrom('Authorization', 'X-Api-Key', 'accept'), fc.constantFrom('Bearer ${PROM_TOKEN}', '${APP_KEY}', 'application/json'), { maxKeys: 2 }));

/** The three source kinds under fixed names, each with the field its metrics read. */
const SOURCE_KINDS = {
  prom: { type: 'prometheus', field: 'query', reads: ['sum(rate(errors[5m])) / sum(rate(requests[5m]))', 'histogram_quantile(0.95, sum by (le) (rate(latency_bucket[5m])))', 'up'] },
  app: { type: 'json', field: 'path', reads: ['result.data.json.errorRate', 'items[0].p95', 'summary.avg'] },
  scrape: { type: 'exposition', field: 'expr', reads: ['sum(increase(http_requests_total{variant="canary",status=~"5.."})) / sum(increase(http_requests_total{variant="canary"}))', 'histogram_quantile(0.95, sum by (le) (rate(latency_bucket[1m])))', 'sum(rate(x_total))'] },
} as const;
type SourceName = keyof typeof SOURCE_KINDS;

/** Limit suffixes that fit each unit (relative limits are percentages of a baseline). */
const SUFFIXES = { ratio: ['%', ''], percent: ['%', ''], seconds: ['s', 'ms', 'm'], milliseconds: ['ms', 's'], count: [''] } as const;
type Unit = keyof typeof SUFFIXES;

/** A warning and a critical limit that point the same way, critical the stricter; or just one. */
function limits(unit: Unit, relative: boolean) {
  return fc
    .record({ up: fc.boolean(), inclusive: fc.boolean(), low: fc.integer({ min: 1, max: 40 }), gap: fc.integer({ min: 1, max: 40 }), suffix: fc.constantFrom(...SUFFIXES[unit]), which: fc.constantFrom('both', 'warning', 'critical') })
    .map(({ up, inclusive, low, gap, suffix, which }) => {
      const op = `${up ? '>' : '<'}${inclusive ? '=' : ''}`;
      // Critical is further out: higher when going up; when going down, lower (so more negative
      // for a relative limit, whose magnitude is written after the sign).
      const [warning, critical] = up || relative ? [low, low + gap] : [low + gap, low];
      // A bare ratio is a fraction (a ratio over 1 is rejected): 5 becomes 0.05.
      const bare = (n: number) => (unit === 'ratio' && suffix === '' ? n / 100 : n);
      const text = (n: number) => (relative ? `${op} ${up ? '+' : '-'}${n}%` : `${op} ${bare(n)}${suffix}`);
      return { ...(which !== 'critical' && { warning: text(warning) }), ...(which !== 'warning' && { critical: text(critical) }) };
    });
}

/** A metric reading one of `sources` with the field that source needs. */
function metric(sources: SourceName[]) {
  return fc
    .record({ source: fc.constantFrom(...sources), read: fc.nat(2), baseline: fc.boolean(), unit: fc.constantFrom<Unit>('ratio', 'percent', 'seconds', 'milliseconds', 'count'), noData: maybe(fc.constantFrom('hold', 'rollback')), dryRun: maybe(fc.boolean()) })
    .chain(({ source, read, baseline, unit, noData, dryRun }) => {
      const kind = SOURCE_KINDS[source];
      return limits(unit, baseline).map((limit) => ({
        source,
        [kind.field]: kind.reads[read],
        ...(baseline && { baseline: kind.reads[(read + 1) % 3] }),
        ...(!baseline && { unit }),
        ...limit,
        ...(noData && { noData }),
        ...(dryRun !== undefined && { dryRun }),
      }));
    });
}

const stages = fc.oneof(
  fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 5 }).map((xs) => [...xs.sort((a, b) => a - b), 100]),
  fc
    .uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 4 })
    .chain((xs) => fc.tuple(...[...xs.sort((a, b) => a - b), 100].map((percent) => fc.record({ percent: fc.constant(percent), bake: maybe(duration), approval: maybe(fc.boolean()) })))),
);
const argv = fc.array(fc.constantFrom('flagctl', 'set', '{{percent}}', '--force'), { minLength: 1, maxLength: 4 });
const httpCall = fc.record({ method: maybe(fc.constantFrom('PUT', 'POST', 'PATCH')), url, headers, body: maybe(fc.constantFrom({ percentage: '{{percent}}' }, '{{percent}}', [1, '{{percent}}'])) }, { requiredKeys: ['url'] });
const target = fc.oneof(
  fc.record({ type: fc.constant('http'), set: httpCall, get: maybe(fc.record({ url, path: fc.constantFrom('percentage', 'data.rollout[0]') })), emergency: maybe(fc.array(httpCall, { maxLength: 2 })), timeout: maybe(timeout), retries: maybe(fc.integer({ min: 0, max: 10 })) }, { requiredKeys: ['type', 'set'] }),
  fc.record({ type: fc.constant('env-file'), path: fc.constantFrom('.env', '/srv/app/.env', '../app/.env'), key: fc.constantFrom('ROLLOUT_PERCENT', 'A.B', '_X'), after: maybe(argv), emergency: maybe(fc.dictionary(fc.constantFrom('KILL_SWITCH', 'MODE'), fc.oneof(fc.string({ maxLength: 4 }), fc.boolean(), fc.integer()))), timeout: maybe(timeout) }, { requiredKeys: ['type', 'path', 'key'] }),
  fc.record({ type: fc.constant('unleash'), url, token: fc.constantFrom('${APP_KEY}', 'tok'), project: maybe(fc.constant('default')), feature: fc.constant('checkout'), environment: fc.constant('production'), retries: maybe(fc.integer({ min: 0, max: 10 })) }, { requiredKeys: ['type', 'url', 'token', 'feature', 'environment'] }),
  fc.record({ type: fc.constant('command'), set: argv, get: maybe(argv), emergency: maybe(fc.array(argv, { maxLength: 2 })), timeout: maybe(timeout) }, { requiredKeys: ['type', 'set'] }),
);

/** A plan that should load: every reference resolves, every limit fits its metric. */
const coherentPlan = fc.subarray<SourceName>(['prom', 'app', 'scrape'], { minLength: 1 }).chain((names) =>
  fc.record(
    {
      version: fc.constant(1),
      name: fc.constantFrom('checkout-v2', 'a', 'x-1-y', '0day'),
      // Without "$": a "${" there would be a variable to set.
      description: fc.string({ maxLength: 30 }).map((text) => text.replaceAll('$', '')),
      stages,
      analysis: fc.record(
        {
          interval,
          bake: duration,
          failureLimit: fc.integer({ min: 1, max: 5 }),
          noData: fc.constantFrom('hold', 'rollback'),
          maxHold: duration,
          onMaxHold: fc.constantFrom('fail', 'rollback'),
          warmup: duration,
          requests: fc.constantFrom(...names).map((source) => ({ source, [SOURCE_KINDS[source].field]: SOURCE_KINDS[source].reads[0] })),
        },
        { requiredKeys: [] },
      ),
      rollback: fc.record({ to: fc.constantFrom(0, 'previous') }),
      sources: fc.constant(Object.fromEntries(names.map((n) => [n, { type: SOURCE_KINDS[n].type }]))).chain((kinds) =>
        fc.record(Object.fromEntries(Object.entries(kinds).map(([n, k]) => [n, fc.record({ type: fc.constant(k.type), url, headers, timeout: maybe(timeout) }, { requiredKeys: ['type', 'url'] })]))),
      ),
      metrics: fc.array(metric(names), { maxLength: 4 }).map((ms) => ms.map((m, i) => ({ name: `metric_${i}`, ...m }))),
      target,
      notify: fc.array(fc.record({ type: fc.constantFrom('slack', 'webhook'), url, on: maybe(fc.uniqueArray(fc.constantFrom('advance', 'rollback', 'complete', 'drift'), { maxLength: 3 })) }, { requiredKeys: ['type', 'url'] }), { maxLength: 2 }),
      state: fc.oneof(fc.record({ backend: fc.constant('file') }), fc.record({ backend: fc.constant('postgres'), url: fc.constantFrom('postgres://u:p@db/rollout', '${APP_KEY}') })),
    },
    { requiredKeys: ['version', 'name', 'stages', 'sources', 'target'] },
  ),
);

// ---- Faults: edits of a plan's tree (for generated plans and examples) or of its text. ----

/** Every place in a YAML value: the container and the key or index that leads to it. */
function places(value: unknown, out: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = []) {
  if (Array.isArray(value)) value.forEach((v, i) => (out.push({ parent: value, key: i }), places(v, out)));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push({ parent: value as Record<string, unknown>, key: k }), places(v, out);
  return out;
}

type TreeEdit = [kind: 'delete' | 'replace' | 'wrap' | 'rename', at: number, replacement: unknown];

const treeEdit: fc.Arbitrary<TreeEdit> = fc.tuple(
  fc.constantFrom('delete', 'replace', 'wrap', 'rename'),
  fc.nat(),
  fc.oneof(junk, fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('${NOT_SET_ANYWHERE}', '${PROM_TOKEN', '> 5', '1e999', -0.5, 101)),
);

/** Applies tree edits to a copy of `value` at the chosen places. */
function editTree(value: unknown, edits: TreeEdit[]): unknown {
  const doc = structuredClone(value);
  for (const [kind, at, replacement] of edits) {
    const all = places(doc);
    const place = all[at % Math.max(all.length, 1)];
    if (!place) continue;
    const parent = place.parent as Record<string | number, unknown>;
    const { key } = place;
    if (kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    } else if (kind === 'replace') parent[key] = replacement;
    else if (kind === 'wrap') parent[key] = [parent[key]];
    else if (!Array.isArray(parent)) {
      parent[`${String(key)}x`] = parent[key];
      delete parent[key];
    }
  }
  return doc;
}

type TextEdit = [kind: 'drop' | 'dup' | 'swap' | 'indent' | 'dedent' | 'value' | 'cut' | 'insert' | 'unset', at: number, noise: string];

const textEdit: fc.Arbitrary<TextEdit> = fc.tuple(
  fc.constantFrom('drop', 'dup', 'swap', 'indent', 'dedent', 'value', 'cut', 'insert', 'unset'),
  fc.nat(),
  fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('[', '{', '"', "'", '- ', ': ', '&a', '*a', '!!str', '\t', '#', '${X', '0x1f', '1e999', '-1', '~')),
);

/** Applies text edits; `at` is taken modulo the line count, or the length for cuts and inserts. */
function editText(text: string, edits: TextEdit[]): string {
  let lines = text.split('\n');
  for (const [kind, at, noise] of edits) {
    const i = at % lines.length;
    const line = lines[i] ?? '';
    if (kind === 'drop') lines.splice(i, 1);
    else if (kind === 'dup') lines.splice(i, 0, line);
    else if (kind === 'swap') lines.splice(i, 2, lines[i + 1] ?? '', line);
    else if (kind === 'indent') lines[i] = `  ${line}`;
    else if (kind === 'dedent') lines[i] = line.replace(/^ {1,2}/, '');
    else if (kind === 'value') lines[i] = line.replace(/:\s.*$/, `: ${noise}`);
    else if (kind === 'unset') lines[i] = line.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/, '${NOT_SET_ANYWHERE}');
    else {
      const joined = lines.join('\n');
      const offset = at % (joined.length + 1);
      lines = (kind === 'cut' ? joined.slice(0, offset) : joined.slice(0, offset) + noise + joined.slice(offset)).split('\n');
    }
  }
  return lines.join('\n');
}

/** A generated plan as YAML: intact half the time, else with one or two faults in its tree. */
const generatedPlan = fc
  .tuple(coherentPlan, fc.oneof(fc.constant<TreeEdit[]>([]), fc.array(treeEdit, { minLength: 1, maxLength: 2 })))
  // The JSON round trip drops the fields fc.option left undefined.
  .map(([value, edits]) => ({ text: stringify(editTree(JSON.parse(JSON.stringify(value)) as unknown, edits)), intact: edits.length === 0 }));

/** An example plan with a few edits of its text (comments and all) or of its tree. */
const mutatedExample = fc
  .record({
    example: fc.nat(EXAMPLES.length - 1),
    text: fc.array(textEdit, { minLength: 1, maxLength: 3 }),
    tree: fc.array(treeEdit, { minLength: 1, maxLength: 3 }),
    byText: fc.boolean(),
  })
  .map(({ example, text, tree, byText }) => {
    const source = EXAMPLES[example]?.text ?? '';
    return byText ? editText(source, text) : stringify(editTree(parse(source) as unknown, tree));
  });

/** How many generated plans the first property loads (about 1.5 ms each idle, 9 ms on a machine loaded 6×). */
const GENERATED_RUNS = 1500;

describe('plan fuzzing', () => {
  // Sized to run in a third of the 30 s test timeout on a loaded 2-core machine (10,000 once took 30.5 s,
  // 3000 took 27.5 s at a load average of 14).
  it(`${GENERATED_RUNS} generated plans: each loads or fails with located problems, no secret in any message`, async () => {
    const outcomes: Record<Outcome, number> = { valid: 0, invalid: 0 };
    await fc.assert(
      fc.asyncProperty(generatedPlan, async ({ text, intact }) => {
        const outcome = await load(text, GENERATED_ENV);
        outcomes[outcome]++;
        // A coherent plan is a valid one: the loader must not reject what the format allows.
        if (intact && outcome !== 'valid') throw new Error(`a coherent plan was rejected: ${text}`);
      }),
      { numRuns: GENERATED_RUNS, seed },
    );
    console.log(`generated plans: ${outcomes.valid} valid, ${outcomes.invalid} invalid`);
    // Both kinds in numbers: the generator reaches the checks deep inside valid-looking plans.
    expect(outcomes.valid).toBeGreaterThan(GENERATED_RUNS / 10);
    expect(outcomes.invalid).toBeGreaterThan(GENERATED_RUNS / 10);
  });

  it('the example plans load as they are', async () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(5);
    for (const { file, text } of EXAMPLES) expect(await load(text, EXAMPLES_ENV), file).toBe('valid');
  });

  it('mutated copies of every example plan: each loads or fails with located problems', async () => {
    const outcomes: Record<Outcome, number> = { valid: 0, invalid: 0 };
    await fc.assert(
      fc.asyncProperty(mutatedExample, async (text) => {
        outcomes[await load(text, EXAMPLES_ENV)]++;
      }),
      { numRuns: 60 * EXAMPLES.length, seed },
    );
    console.log(`mutated examples: ${outcomes.valid} valid, ${outcomes.invalid} invalid`);
    expect(outcomes.invalid).toBeGreaterThan(0);
  });

  it('a handful through the built CLI: `rollout validate` exits 0 or 2, never 1', async () => {
    const dir = tempDir('plan-fuzz');
    const samples = [
      ...fc.sample(generatedPlan, { numRuns: 4, seed }).map(({ text }) => ({ text, env: GENERATED_ENV })),
      ...fc.sample(mutatedExample, { numRuns: 4, seed }).map((text) => ({ text, env: EXAMPLES_ENV })),
    ];
    const results = await Promise.all(
      samples.map(({ text, env }, i) => {
        writeFileSync(join(dir, `plan-${i}.yaml`), text);
        return runCli(['validate', `plan-${i}.yaml`], { cwd: dir, env });
      }),
    );
    for (const [i, r] of results.entries()) {
      const sample = samples[i];
      if (!sample) continue;
      expect([0, 2], `plan-${i}.yaml: ${r.stderr}`).toContain(r.code);
      // As `rollout validate` loads it: an unset ${VAR} (a mutation makes some) is a warning there.
      expect(r.code, r.stderr).toBe((await load(sample.text, sample.env, { unsetIsWarning: true })) === 'valid' ? 0 : 2);
      for (const value of Object.values(sample.env)) expect(r.stdout + r.stderr).not.toContain(value);
    }
  });
});
