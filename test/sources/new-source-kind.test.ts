/**
 * Adding a source type is one file (test/fixtures/constant-source.ts) and one registration: the
 * plan schema, the validator's field and query checks and `rollout check` all take it from there.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryOutput } from '../../src/cli/output.js';
import { createPrompter } from '../../src/cli/prompter.js';
import { checkCommand } from '../../src/commands/check.js';
import type { CommandContext } from '../../src/context.js';
import { PlanError } from '../../src/errors.js';
import { loadPlan } from '../../src/plan/load-plan.js';
import { planJsonSchema } from '../../src/plan/schema.js';
import { registerSourceKind } from '../../src/sources/kinds/index.js';
import { constantKind } from '../fixtures/constant-source.js';
import { FakeClock } from '../helpers/fake-clock.js';

// Built once before the registration, as a command that validated a plan would have.
const sourceTypesBefore = sourceTypesIn(await planJsonSchema());
registerSourceKind(constantKind);

type JsonSchema = {
  properties: {
    sources: { additionalProperties: { oneOf: { properties: Record<string, { const?: string; description?: string }> }[] } };
    metrics: { items: { properties: Record<string, { description?: string }> } };
  };
};

function sourceTypesIn(schema: Record<string, unknown>): (string | undefined)[] {
  return (schema as JsonSchema).properties.sources.additionalProperties.oneOf.map((entry) => entry.properties.type?.const);
}

function writePlan(sources: string, metrics: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-constant-'));
  const file = join(dir, 'rollout.yaml');
  writeFileSync(
    file,
    `version: 1
name: constant
stages: [10, 100]
sources: ${sources}
metrics:
${metrics}
target: { type: command, set: [echo, "{{percent}}"] }
`,
  );
  return file;
}

function context(): CommandContext & { out: ReturnType<typeof memoryOutput> } {
  return { out: memoryOutput({ json: true }), prompter: createPrompter(() => false), clock: new FakeClock(), env: {}, signal: new AbortController().signal };
}

async function problemsOf(file: string): Promise<string[]> {
  const err = await loadPlan(file, { env: {} }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlanError);
  return (err as PlanError).problems.map((p) => `${p.line}: ${p.message}`);
}

describe('a source type registered from outside', () => {
  it('is read by `rollout check`: its values, scaled, judged against the limits', async () => {
    const file = writePlan(
      '{ fixed: { type: constant, scale: 2 } }',
      `  - { name: errors, source: fixed, value: "0.01", unit: ratio, warning: "> 1%", critical: "> 5%" }
  - { name: latency, source: fixed, value: "0.25", baseline: "0.2", unit: seconds, critical: "> +50%" }`,
    );
    const ctx = context();
    const result = await checkCommand({ plan: file, json: true }, ctx);
    const report = JSON.parse(ctx.out.stdout.join('')) as { verdict: string; readings: { name: string; value: number; baseline?: number; status: string }[] };
    expect(report.readings).toEqual([
      expect.objectContaining({ name: 'errors', value: 0.02, status: 'warning' }),
      expect.objectContaining({ name: 'latency', value: 0.5, baseline: 0.4, status: 'ok' }),
    ]);
    expect(report.verdict).toBe('hold');
    expect(result.exitCode).toBe(3);
  });

  it('a critical reading from it is exit 4', async () => {
    const file = writePlan('{ fixed: { type: constant } }', '  - { name: errors, source: fixed, value: "0.08", unit: ratio, critical: "> 5%" }');
    const ctx = context();
    expect((await checkCommand({ plan: file, json: true }, ctx)).exitCode).toBe(4);
    expect(JSON.parse(ctx.out.stdout.join(''))).toMatchObject({ verdict: 'critical', readings: [{ name: 'errors', value: 0.08, status: 'critical' }] });
  });

  it('its query field and check are the validator\'s: a bad value, a foreign field, its field on another type', async () => {
    const file = writePlan(
      '{ fixed: { type: constant, scale: 3 }, prom: { type: prometheus, url: "http://127.0.0.1:9" } }',
      `  - { name: a, source: fixed, value: "lots", critical: "> 5" }
  - { name: b, source: fixed, query: up, critical: "> 5" }
  - { name: c, source: prom, value: "1", critical: "> 5" }`,
    );
    expect(await problemsOf(file)).toEqual([
      '6: "lots" is not a number',
      '7: missing `value` for constant source "fixed"',
      '7: `query` does not apply to constant source "fixed"',
      '8: missing `query` for prometheus source "prom"',
      '8: `value` does not apply to prometheus source "prom"',
    ]);
  });

  it('is in the JSON Schema, rebuilt after it registered: its entry under sources and its field on metrics', async () => {
    expect(sourceTypesBefore).toEqual(['prometheus', 'json', 'exposition', 'postgres']);
    const schema = await planJsonSchema() as JsonSchema;
    expect(sourceTypesIn(schema)).toEqual(['prometheus', 'json', 'exposition', 'postgres', 'constant']);
    const constant = schema.properties.sources.additionalProperties.oneOf.find((entry) => entry.properties.type?.const === 'constant');
    expect(constant?.properties).toMatchObject({ type: { description: 'Numbers written in the plan itself.' }, scale: { description: 'Multiplies every value read (default 1).' } });
    expect(schema.properties.metrics.items.properties.value).toEqual(expect.objectContaining({ description: 'A number (constant sources).' }));
  });

  it('its own keys are checked by its schema piece', async () => {
    const file = writePlan('{ fixed: { type: constant, scale: -1, url: "http://127.0.0.1:9" } }', '  - { name: a, source: fixed, value: "1", critical: "> 5" }');
    expect(await problemsOf(file)).toEqual([expect.stringMatching(/^4: sources\.fixed\.scale: expected number to be >0/), '4: unknown key "url" in sources.fixed']);
  });

  it('cannot be registered twice', () => {
    expect(() => registerSourceKind(constantKind)).toThrow('source type "constant" is registered twice');
  });
});
