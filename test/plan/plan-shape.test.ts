/**
 * The plan's generated validator (src/plan/plan-shape.generated.ts) decides alone whether a plan
 * has the right shape, zod only wording what is wrong: so it must accept exactly what the zod
 * schema accepts, and be generated from the schema as it is now.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validate as acceptsPlanShape } from '../../src/plan/plan-shape.generated.js';
import { planSchema } from '../../src/plan/schema.js';
import { mutatedAt, type Json } from '../helpers/mutate.js';

const REPO = new URL('../../', import.meta.url);

/** Every example and fixture plan as data, its `${VAR}`s set. */
const PLANS = ['rollout-plans/', 'test/fixtures/plans/'].flatMap((dir) =>
  readdirSync(new URL(dir, REPO))
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => ({ file: `${dir}${file}`, data: parse(readFileSync(new URL(`${dir}${file}`, REPO), 'utf8').replace(/\$\{[A-Z0-9_]+\}/g, 'placeholder-secret-value')) as unknown })),
);

const schema = await planSchema();
const zodAccepts = (data: unknown) => schema.safeParse(data).success;

/** Values chosen to sit on the schema's edges: durations around their limits, numbers around theirs, wrong types. */
const edgeValue = fc.oneof(
  fc.constantFrom('30s', '0s', '1h', '3600001ms', '61m', '365d', '366d', '8760h', '8761h', '1.5h', '1h30m', ' 5m ', '5 m', '10', '', 'previous', 'hold', 'rollback', 'ratio', 'seconds', 'count', 'GET', 'PUT', '> 1%', '>= 3s', '> +20%', '< -5%', 'about 1%', 'checkout-v2', 'Bad Name', 'a'.repeat(101), 'prometheus', 'http', 'unleash', 'env-file', 'command', 'webhook', 'slack', 'postgres', 'file'),
  fc.constantFrom(0, 1, -1, 1.5, 2, 10, 11, 99, 100, 101, 1e300, Number.MAX_SAFE_INTEGER + 2),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 12 }),
  fc.array(fc.oneof(fc.integer({ min: -5, max: 120 }), fc.string({ maxLength: 4 })), { maxLength: 4 }),
  fc.dictionary(fc.constantFrom('percent', 'bake', 'url', 'type', 'extra'), fc.oneof(fc.integer({ min: 0, max: 101 }), fc.constantFrom('10m', 'x', '400d')), { maxKeys: 3 }),
);

describe('the generated plan validator', () => {
  it('is what scripts/plan-validator.mjs writes from the schema as it is now', () => {
    const fresh = execFileSync(process.execPath, ['scripts/plan-validator.mjs', '--print'], { cwd: REPO, encoding: 'utf8' });
    expect(readFileSync(new URL('src/plan/plan-shape.generated.ts', REPO), 'utf8') === fresh, 'run `node scripts/plan-validator.mjs`').toBe(true);
  });

  it('accepts every example and fixture plan, as zod does', () => {
    expect(PLANS.length).toBeGreaterThan(5);
    for (const { file, data } of PLANS) expect([file, acceptsPlanShape(data)]).toEqual([file, zodAccepts(data)]);
    expect(PLANS.every(({ data }) => zodAccepts(data))).toBe(true);
  });

  it('agrees with zod on plans changed at any place: a value replaced, a key deleted, a key added', () => {
    let rejected = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...PLANS),
        fc.nat(),
        fc.constantFrom('replace' as const, 'replace' as const, 'delete' as const, 'add' as const),
        edgeValue,
        ({ data }, pick, how, value) => {
          const changed = mutatedAt(data as Json, pick, how, value as Json);
          const zod = zodAccepts(changed);
          if (!zod) rejected++;
          expect(acceptsPlanShape(changed)).toBe(zod);
        },
      ),
      { numRuns: 4000 },
    );
    // The property saw both kinds: plans zod rejects and plans it accepts.
    expect(rejected).toBeGreaterThan(400);
    expect(rejected).toBeLessThan(3600);
  });

  it('rejects each duration check zod makes and JSON Schema has no keyword for', () => {
    const base = structuredClone(PLANS.find(({ file }) => file.endsWith('valid.yaml'))?.data) as Record<string, Record<string, unknown>>;
    for (const [edit, accepted] of [
      [(p: typeof base) => (p.analysis = { ...p.analysis, bake: '365d' }), true],
      [(p: typeof base) => (p.analysis = { ...p.analysis, bake: '366d' }), false],
      [(p: typeof base) => (p.target = { ...p.target, timeout: '1h' }), true],
      [(p: typeof base) => (p.target = { ...p.target, timeout: '61m' }), false],
      [(p: typeof base) => (p.target = { ...p.target, timeout: '0s' }), false],
    ] as const) {
      const plan = structuredClone(base);
      edit(plan);
      expect([acceptsPlanShape(plan), zodAccepts(plan)]).toEqual([accepted, accepted]);
    }
  });
});
