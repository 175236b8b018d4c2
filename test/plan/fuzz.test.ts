/** Thousands of random documents through the loader: a plan or a PlanError, never anything else. */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PlanError } from '../../src/errors.js';
import { parsePlan } from '../../src/plan/load-plan.js';
import { Secrets } from '../../src/plan/secrets.js';

const VALID = readFileSync(new URL('../fixtures/plans/valid.yaml', import.meta.url), 'utf8');
const env = { PROM_TOKEN: 'tok-123' };

/** Loads `text`; fails the property on any outcome but a plan or a well-formed PlanError. */
async function loadsOrExplains(text: string): Promise<boolean> {
  try {
    await parsePlan(text, 'fuzz.yaml', { env, secrets: new Secrets() });
    return true;
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    expect(err.exitCode).toBe(2);
    expect(err.problems.length).toBeGreaterThan(0);
    for (const p of err.problems) {
      expect(p.line).toBeGreaterThanOrEqual(1);
      expect(p.col).toBeGreaterThanOrEqual(1);
      expect(p.message.length).toBeGreaterThan(0);
    }
    return true;
  }
}

describe('plan loader under fuzzing', () => {
  it('survives arbitrary text', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 400 }), loadsOrExplains), { numRuns: 3000 });
  });

  it('survives arbitrary YAML values', async () => {
    await fc.assert(fc.asyncProperty(fc.jsonValue({ maxDepth: 5 }), (value) => loadsOrExplains(stringify(value))), { numRuns: 3000 });
  });

  it('survives plan-shaped documents with random values in every field', async () => {
    const anyValue = fc.oneof(fc.string(), fc.integer({ min: -5, max: 500 }), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer({ min: -10, max: 120 })));
    const planLike = fc.record(
      {
        version: fc.oneof(fc.constant(1), anyValue),
        name: fc.oneof(fc.constant('demo'), anyValue),
        stages: fc.oneof(fc.array(fc.oneof(fc.integer({ min: -10, max: 120 }), fc.record({ percent: anyValue, bake: anyValue })), { maxLength: 6 }), anyValue),
        analysis: fc.record({ interval: anyValue, failureLimit: anyValue, noData: anyValue, warmup: anyValue }, { requiredKeys: [] }),
        sources: fc.dictionary(fc.string({ maxLength: 6 }), fc.record({ type: fc.constantFrom('prometheus', 'json', 'exposition', 'x'), url: anyValue }, { requiredKeys: [] })),
        metrics: fc.array(fc.record({ name: anyValue, source: anyValue, query: anyValue, unit: anyValue, warning: anyValue, critical: anyValue, baseline: anyValue }, { requiredKeys: [] }), { maxLength: 4 }),
        target: fc.record({ type: fc.constantFrom('http', 'env-file', 'unleash', 'command', 'x'), path: anyValue, key: anyValue, set: anyValue }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    );
    // 1500, not 3000, here and below: about 2 ms each idle, 7 ms on a machine loaded 6×, so a loaded
    // machine stays within a third of the 30 s timeout.
    await fc.assert(fc.asyncProperty(planLike, (value) => loadsOrExplains(stringify(value))), { numRuns: 1500 });
  });

  it('survives the valid plan with random lines cut, duplicated or mangled', async () => {
    const lines = VALID.split('\n');
    const mutation = fc.array(fc.tuple(fc.nat(lines.length - 1), fc.constantFrom('drop', 'dup', 'indent', 'garble'), fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(mutation, (edits) => {
        const out = [...lines];
        for (const [i, kind, noise] of edits) {
          const line = out[i] ?? '';
          if (kind === 'drop') out.splice(i, 1);
          else if (kind === 'dup') out.splice(i, 0, line);
          else if (kind === 'indent') out[i] = ` ${line}`;
          else out[i] = line.slice(0, noise.length) + noise;
        }
        return loadsOrExplains(out.join('\n'));
      }),
      { numRuns: 1500 },
    );
  });
});
