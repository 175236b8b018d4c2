import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planJsonSchema } from '../../src/plan/schema.js';

describe('the JSON Schema', () => {
  it('checked in under schema/ is the one the validator generates (regenerate: `rollout schema > schema/rollout-plan.schema.json`)', async () => {
    const checkedIn = JSON.parse(readFileSync(new URL('../../schema/rollout-plan.schema.json', import.meta.url), 'utf8'));
    expect(checkedIn).toEqual(await planJsonSchema());
  });

  it('describes every top-level key and forbids unknown ones, as the validator does', async () => {
    const schema = await planJsonSchema() as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['version', 'name', 'stages', 'analysis', 'rollback', 'sources', 'metrics', 'target', 'notify', 'state']),
    );
    expect(schema.required).toEqual(expect.arrayContaining(['version', 'name', 'stages', 'target']));
    expect(schema.additionalProperties).toBe(false);
  });

  it('carries the duration and limit patterns so editors flag them', async () => {
    const text = JSON.stringify(await planJsonSchema());
    expect(text).toContain('(ms|s|m|h|d)');
    expect(text).toContain('(>=|<=|>|<)');
  });
});
