/**
 * The generated validators of the stored shapes (src/state/state-shape.generated.ts) accept a
 * value without zod, returning it as it is: so each must accept exactly the values zod accepts
 * and returns unchanged but for the order of keys (a planRecord zod drops, keys a z.object strips:
 * rejected, left to zod), and be generated from the schemas as they are now. What the parse
 * functions return is what zod returns, keys in the same order.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as accepts from '../../src/state/state-shape.generated.js';
import { parseShape } from '../../src/state/parse-stored.js';
import { storedSchemas, type StoredShape } from '../../src/state/state-schemas.js';
import { mutatedAt, pathsOf, type Json } from '../helpers/mutate.js';

const REPO = new URL('../../', import.meta.url);

const planRecord = { file: '/srv/plans/checkout.yaml', sha256: 'ab'.repeat(32), target: { type: 'http', url: 'http://127.0.0.1:1/flag' }, notify: [{ type: 'slack', url: 'https://hooks.example/x' }] };

/** Valid values of each shape, every optional field among them. */
const VALID: Record<StoredShape, Json[]> = {
  state: [
    { plan: 'checkout', stageIndex: -1, percent: 0, enteredAt: 0, consecutiveCritical: 0, completed: false, rolledBack: false, version: 0 },
    {
      plan: 'checkout', stageIndex: 2, percent: 25, enteredAt: 1_700_000_000_000, paused: { reason: 'look', by: 'ana', at: 1 }, consecutiveCritical: 1,
      holdingSince: 2, completed: false, rolledBack: true, bakeRestart: { at: 3, reason: 'critical' }, stages: [1, 10, 25, 100],
      emergency: { by: 'bob', at: 4, command: 'rollout rollback --emergency' }, planRecord, version: 7, newerField: { any: ['thing'] },
      evidence: { stageIndex: 2, percent: 25, lastAt: 5, counts: { errors: { canaryEvents: 1, canaryTotal: 100, baselineEvents: 2, baselineTotal: 300 } } },
    },
    { plan: 'p', stageIndex: 0, percent: 100, enteredAt: 1.5, consecutiveCritical: 0, completed: true, rolledBack: false, version: 1, planRecord: { file: 'f', sha256: '', target: null, extra: 1 } },
  ],
  event: [
    { time: '2026-01-01T00:00:00.000Z', plan: 'checkout', actor: 'ana', action: 'advance', from: 10, to: 25, verdict: 'healthy', metrics: { errors: 0.5, latency: null }, reason: 'bake done' },
    { time: 't', plan: 'p', actor: 'a', action: 'some-future-action', from: 0, to: 0, metrics: {}, reason: '', extra: true },
  ],
  request: [
    { id: 'abcdefghi-0123abcd', kind: 'rollback', by: 'ana', reason: 'bad', to: 'previous', at: 1 },
    { id: '012345678-ffffffff', kind: 'hold', by: 'bob', to: 0, at: 2, extra: 'x' },
    { id: '012345678-00000000', kind: 'approve', by: 'bob', at: 3 },
  ],
  answer: [
    { id: 'abcdefghi-0123abcd', applied: true, message: 'held', exitCode: 0 },
    { id: 'x', applied: false, message: '', exitCode: 3, extra: null },
  ],
  sample: [
    { time: '2026-01-01T00:00:00.000Z', percent: 10, verdict: 'critical', metrics: { errors: 2, latency: null }, baselines: { errors: 1 }, polls: 4 },
    { time: 't', percent: 0, verdict: 'healthy', metrics: {}, extra: [] },
  ],
};
const SHAPES = Object.keys(VALID) as StoredShape[];

/** What the store gets back today: zod's output, or undefined when zod rejects the value. */
function zodParse(shape: StoredShape, value: unknown): unknown {
  const result = storedSchemas[shape].safeParse(value);
  return result.success ? result.data : undefined;
}

/** The same value, keys in the same order. */
const sameOutput = (a: unknown, b: unknown) => isDeepStrictEqual(a, b) && JSON.stringify(a) === JSON.stringify(b);

/** What the parse functions make of `value` (parse-stored.ts), undefined when they reject it. */
async function ourParse(shape: StoredShape, value: unknown): Promise<unknown> {
  const result = await parseShape(shape, value);
  return result.success ? result.data : undefined;
}

/** `data` with the keys of the object at its `pick`th path in reverse order. */
function reversedAt(data: Json, pick: number): Json {
  const paths = pathsOf(data);
  const reverse = (v: Json): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v);
  const path = paths[pick % paths.length] as (string | number)[];
  if (path.length === 0) return reverse(data);
  const copy = structuredClone(data);
  let parent = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  const last = path[path.length - 1] as string | number;
  parent[last] = reverse(parent[last] as Json);
  return copy;
}

/** The validator decides alone only what zod returns unchanged (but for the order of keys). */
function agreement(shape: StoredShape, value: Json): { ajv: boolean; zodAsIs: boolean; zodAccepts: boolean } {
  const parsed = zodParse(shape, value);
  return { ajv: (accepts[shape] as (v: unknown) => boolean)(value), zodAsIs: parsed !== undefined && isDeepStrictEqual(parsed, value), zodAccepts: parsed !== undefined };
}

/** Values on the shapes' edges: numbers around their limits, the enums' words, wrong types. */
const edgeValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(0, 1, -1, -2, 1.5, 99, 100, 101, 1e300, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2),
  fc.constantFrom('', 'x', 'previous', 'hold', 'resume', 'approve', 'rollback', 'healthy', 'critical', 'skipped', 'abcdefghi-0123abcd', 'ABCDEFGHI-0123ABCD', '12345678-0123abcd'),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 6 }),
  fc.array(fc.oneof(fc.integer({ min: -2, max: 102 }), fc.string({ maxLength: 3 }), fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(
    fc.constantFrom('file', 'sha256', 'target', 'notify', 'reason', 'by', 'at', 'command', 'canaryEvents', 'canaryTotal', 'baselineEvents', 'baselineTotal', 'extra'),
    fc.oneof(fc.integer({ min: -1, max: 101 }), fc.constantFrom('x', '', null)),
    { maxKeys: 4, noNullPrototype: true },
  ),
);

describe('the generated validators of the stored shapes', () => {
  it('are what scripts/state-validators.mjs writes from the schemas as they are now', () => {
    const fresh = execFileSync(process.execPath, ['scripts/state-validators.mjs', '--print'], { cwd: REPO, encoding: 'utf8' });
    expect(readFileSync(new URL('src/state/state-shape.generated.ts', REPO), 'utf8') === fresh, 'run `node scripts/state-validators.mjs`').toBe(true);
  });

  it('accept every valid value, which zod returns unchanged', () => {
    for (const shape of SHAPES) for (const value of VALID[shape]) expect([shape, agreement(shape, value)]).toEqual([shape, { ajv: true, zodAsIs: true, zodAccepts: true }]);
  });

  it('reject a planRecord zod drops, and keys a z.object strips, which zod accepts changed', () => {
    const [, full] = VALID.state as [Json, Record<string, Json>];
    for (const changed of [{ ...full, planRecord: null }, { ...full, planRecord: { file: 'f' } }, { ...full, paused: { reason: 'r', by: 'b', at: 1, extra: 1 } }]) {
      expect(agreement('state', changed)).toEqual({ ajv: false, zodAsIs: false, zodAccepts: true });
    }
  });

  it('agree with zod on values changed at any place: a value replaced, a key deleted, a key added, keys reordered; the parse functions return what zod does', async () => {
    const seen = { accepted: 0, rejected: 0, changed: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SHAPES.flatMap((shape) => VALID[shape].map((value) => ({ shape, value })))),
        fc.nat(),
        fc.constantFrom('replace' as const, 'replace' as const, 'delete' as const, 'add' as const, 'reverse' as const),
        edgeValue,
        async ({ shape, value }, pick, how, edge) => {
          const changed = how === 'reverse' ? reversedAt(value, pick) : mutatedAt(value, pick, how, edge);
          const { ajv, zodAsIs, zodAccepts } = agreement(shape, changed);
          seen[zodAsIs ? 'accepted' : zodAccepts ? 'changed' : 'rejected']++;
          expect(ajv).toBe(zodAsIs);
          expect(sameOutput(await ourParse(shape, changed), zodParse(shape, changed))).toBe(true);
        },
      ),
      { numRuns: 20_000 },
    );
    // The property saw each kind: values zod rejects, returns unchanged, and returns changed.
    expect(seen.rejected).toBeGreaterThan(2000);
    expect(seen.accepted).toBeGreaterThan(2000);
    expect(seen.changed).toBeGreaterThan(100);
  });
});
