/**
 * What is wrong with a plan the generated validator rejected, worded for an operator: zod parses
 * it with the plan schema (src/plan/schema.ts), each issue becomes a problem, and the rules of the
 * sections that are valid are checked too. Imported by load-plan.ts only for such plans, so that
 * zod loads for them alone; a plan zod accepts (a type registered at run time) is returned parsed.
 */
import type { core } from 'zod';
import { checkRules, type PathProblem, type PlanSections } from './build-plan.js';
import { allowedKeys, closestKey } from './known-keys.js';
import { planSchema, type PlanSchema, type RawPlan } from './schema.js';

/** The plan parsed, or every problem the schema and the rules of its valid sections find. */
export async function parseWithSchema(data: unknown): Promise<{ success: true; data: RawPlan } | { success: false; problems: PathProblem[] }> {
  const schema = await planSchema();
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed;
  const described = await Promise.all(parsed.error.issues.map((issue) => describeIssue(issue, data)));
  const rules = checkRules(validSections(schema, data as Record<string, unknown>)).filter((p) => !p.warning);
  return { success: false, problems: described.flat().concat(rules) };
}

/** Keys whose values are durations, to explain a bare number there. */
const DURATION_KEYS = new Set(['interval', 'bake', 'maxHold', 'warmup', 'timeout']);

/** The sections that pass the schema on their own, so their rules can be checked too. */
function validSections(schema: PlanSchema, data: Record<string, unknown>): PlanSections {
  const sections: Record<string, unknown> = {};
  for (const key of ['stages', 'analysis', 'sources', 'metrics', 'rollback'] as const) {
    const result = schema.shape[key].safeParse(data[key]);
    if (result.success && result.data !== undefined) sections[key] = result.data;
  }
  return sections as PlanSections;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Turns a schema issue into problems an operator can act on. */
async function describeIssue(issue: core.$ZodIssue, data: unknown): Promise<PathProblem[]> {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const field = path.length ? path.join('.') : 'the plan';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = await allowedKeys(data, path);
      return issue.keys.map((key) => {
        const meant = closestKey(key, allowed);
        return {
          path: [...path, key],
          message: `unknown key "${key}"${path.length ? ` in ${field}` : ''}`,
          hint: meant ? `did you mean \`${meant}\`? (\`rollout schema\` lists every key)` : 'check the spelling; `rollout schema` lists every key',
          atKey: true,
        };
      });
    }
    case 'invalid_union': {
      const discriminator = (issue as { discriminator?: string }).discriminator;
      const options = (issue as { options?: unknown[] }).options;
      if (discriminator && options) {
        const given = valueAt(data, path);
        return [{
          path,
          message: given === undefined ? `missing ${field}` : `unknown ${field} ${JSON.stringify(given)}`,
          hint: `use one of: ${options.join(', ')}`,
        }];
      }
      return [{ path, message: `${field}: ${typeName(valueAt(data, path))} is not allowed here`, hint: 'see `rollout schema` for the accepted forms' }];
    }
    case 'invalid_type': {
      const given = valueAt(data, path);
      if (typeof given === 'number' && DURATION_KEYS.has(String(path[path.length - 1]))) {
        return [{ path, message: `${field}: ${given} has no unit`, hint: `write a duration such as ${given}s, ${given}m or ${given}h` }];
      }
      if (given === undefined) return [{ path, message: `missing ${field}`, hint: `add \`${path[path.length - 1] ?? field}:\` (${issue.expected})` }];
      return [{ path, message: `${field} should be ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}, not ${typeName(given)}`, hint: 'see `rollout schema`' }];
    }
    case 'invalid_value':
      return [{ path, message: `${field}: ${typeName(valueAt(data, path))} is not allowed`, hint: `use one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` }];
    case 'too_small':
    case 'too_big':
      return [{ path, message: `${field}: ${issue.message.replace(/^Too (small|big): /, '')}`, hint: 'see `rollout schema` for the allowed range' }];
    default:
      return [{ path, message: `${field}: ${issue.message}`, hint: 'see `rollout schema`' }];
  }
}
