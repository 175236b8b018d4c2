/**
 * The zod schemas of what the stores keep (state, history events, requests, answers, samples).
 * They define the shapes; scripts/state-validators.mjs compiles them into
 * src/state/state-shape.generated.ts, which accepts a stored value as it is. This module loads
 * zod: parse-stored.ts imports it (dynamically) only for a value the generated validator rejects,
 * to say what is wrong with it, or to parse what zod would change (a planRecord it drops).
 */
import { z } from '../zod-configured.js';
import type { EventAction } from '../plan/types.js';
import type { MetricSample } from './samples.js';
import { requestIdPattern, type HistoryEvent, type RequestAnswer, type RolloutState, type RunRequest } from './types.js';

/** An event's action: any non-empty string, so an action added later does not make older histories unreadable. */
export const isAction = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

// Stored state and events are checked on read so a hand-edited or truncated store fails with
// StateCorruptError instead of a TypeError deep inside a command. Loose objects keep fields a newer
// version wrote; the type annotations make tsc flag these schemas when the interfaces change.
const stateSchema: z.ZodType<RolloutState> = z.looseObject({
  plan: z.string(),
  stageIndex: z.number().int().min(-1),
  percent: z.number().min(0).max(100),
  enteredAt: z.number(),
  paused: z.object({ reason: z.string(), by: z.string(), at: z.number() }).optional(),
  consecutiveCritical: z.number().int().min(0),
  holdingSince: z.number().optional(),
  completed: z.boolean(),
  rolledBack: z.boolean(),
  bakeRestart: z.object({ at: z.number(), reason: z.string() }).optional(),
  stages: z.array(z.number().int().min(1).max(100)).optional(),
  emergency: z.object({ by: z.string(), at: z.number(), command: z.string() }).optional(),
  // Checked loosely: a record this version cannot use must not make the state unreadable.
  planRecord: z.looseObject({ file: z.string(), sha256: z.string(), target: z.unknown(), notify: z.unknown().optional() }).optional().catch(undefined),
  version: z.number().int().min(0),
  evidence: z
    .object({
      stageIndex: z.number().int(),
      percent: z.number(),
      lastAt: z.number().optional(),
      counts: z.record(z.string(), z.object({ canaryEvents: z.number(), canaryTotal: z.number(), baselineEvents: z.number(), baselineTotal: z.number() })),
    })
    .optional(),
});

const eventSchema: z.ZodType<HistoryEvent> = z.looseObject({
  time: z.string(),
  plan: z.string(),
  actor: z.string(),
  action: z.custom<EventAction>(isAction, 'expected an action'),
  from: z.number(),
  to: z.number(),
  verdict: z.enum(['healthy', 'hold', 'critical', 'skipped']).optional(),
  metrics: z.record(z.string(), z.number().nullable()),
  reason: z.string(),
});

const requestSchema: z.ZodType<RunRequest> = z.looseObject({
  id: z.string().regex(requestIdPattern),
  kind: z.enum(['hold', 'resume', 'approve', 'rollback']),
  by: z.string(),
  reason: z.string().optional(),
  to: z.union([z.number().int().min(0).max(100), z.literal('previous')]).optional(),
  at: z.number(),
});

const answerSchema: z.ZodType<RequestAnswer> = z.looseObject({ id: z.string(), applied: z.boolean(), message: z.string(), exitCode: z.number().int() });

const sampleSchema: z.ZodType<MetricSample> = z.looseObject({
  time: z.string(),
  percent: z.number(),
  verdict: z.enum(['healthy', 'hold', 'critical']),
  metrics: z.record(z.string(), z.number().nullable()),
  baselines: z.record(z.string(), z.number()).optional(),
  polls: z.number().int().min(1).optional(),
});

/** Every stored shape by name; the generated validator has a function of the same name for each. */
export const storedSchemas = { state: stateSchema, event: eventSchema, request: requestSchema, answer: answerSchema, sample: sampleSchema };
export type StoredShape = keyof typeof storedSchemas;
type Shapes = { [K in StoredShape]: (typeof storedSchemas)[K] extends z.ZodType<infer T> ? T : never };

/** `value` parsed by zod, or where and why it is not of the shape (the first issue). */
export function parseWithZod<K extends StoredShape>(shape: K, value: unknown): { success: true; data: Shapes[K] } | { success: false; at: string; message: string } {
  const result = (storedSchemas[shape] as z.ZodType<Shapes[K]>).safeParse(value);
  if (result.success) return { success: true, data: result.data };
  const issue = result.error.issues[0];
  return { success: false, at: issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '', message: issue?.message ?? 'wrong shape' };
}

/**
 * Kinds of zod schema JSON Schema cannot express (zod writes `{}` for them), or whose output can
 * differ from their input, which the generated validator cannot know about.
 */
const INEXPRESSIBLE = new Set(['bigint', 'symbol', 'undefined', 'void', 'date', 'nan', 'custom', 'function', 'transform', 'map', 'set', 'promise', 'lazy', 'default', 'prefault', 'pipe']);

/**
 * The JSON Schema of each stored shape, for scripts/state-validators.mjs: as zod accepts them, an
 * action a non-empty string. Where zod's output would differ from a value it accepts, the value is
 * rejected, to be left to zod: a `.catch` becomes what it catches, and an object that strips keys
 * it does not know (z.object) allows none. Anything else JSON Schema cannot express throws.
 */
export function storedShapeSchemas(): Record<StoredShape, Record<string, unknown>> {
  const toJson = (schema: z.ZodType) =>
    z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io: 'input',
      unrepresentable: 'any',
      override({ zodSchema, jsonSchema }) {
        const def = zodSchema._zod.def as { type: string; fn?: unknown; catchall?: unknown; checks?: { _zod: { def: { check: string } } }[] };
        if ((def.checks ?? []).some((c) => c._zod.def.check === 'custom')) throw new Error('a stored shape has a refinement, which JSON Schema cannot express');
        if (def.type === 'custom' && def.fn === isAction) {
          for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
          Object.assign(jsonSchema, { type: 'string', minLength: 1 });
        } else if (def.type === 'object' && def.catchall === undefined) {
          jsonSchema.additionalProperties = false;
        } else if (INEXPRESSIBLE.has(def.type)) throw new Error(`a stored shape has a ${def.type}, which JSON Schema cannot express`);
      },
    }) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(storedSchemas).map(([shape, schema]) => [shape, toJson(schema as z.ZodType)])) as Record<StoredShape, Record<string, unknown>>;
}
