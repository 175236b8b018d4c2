/**
 * The plan file's shape, defined once: the validator parses with it and `rollout schema` prints
 * the JSON Schema generated from it. Values stay as written (durations, limits as strings);
 * load-plan.ts normalises them and checks the rules a schema cannot express. The sources' and
 * the target's shapes come from their types' registries (src/sources/kinds/, src/targets/kinds/).
 *
 * This module loads zod: it is imported (dynamically) only when a plan is rejected by the
 * generated validator, or the schema itself is wanted (`rollout schema`, `rollout init`).
 */
import { z } from '../zod-configured.js';
import { LIMIT_PATTERN } from '../analysis/limits.js';
import type { SourceKind } from '../sources/kinds/kind.js';
import type { TargetKind } from '../targets/kinds/kind.js';
import { sourceKinds } from '../sources/kinds/index.js';
import { targetKinds } from '../targets/kinds/index.js';
import { compareSchema } from './compare-schema.js';
import { DURATION_FORMATS } from './duration.js';
import { duration, headers, timeout } from './schema-parts.js';

/** Rollout names key state and history, so they must be safe in file names and URLs. */
export const NAME_PATTERN = '^[a-z0-9][a-z0-9-]*$';
/**
 * The state files are `<name>.history.jsonl` and temp files like `<name>.saving.<pid>.<hex>.evicted`:
 * 100 characters leave room for those within the 255-byte file-name limit of common file systems.
 */
export const NAME_MAX_LENGTH = 100;

const limit = z
  .string()
  .regex(new RegExp(LIMIT_PATTERN), 'expected a limit such as "> 1%", ">= 3s" or "> +20%"')
  .meta({ description: 'A limit: an operator (> >= < <=) and a number with an optional unit (%, ms, s, m, h). A signed percentage ("> +20%") is relative to the metric\'s baseline.' });

const percent = z.int().min(0).max(100);
const noData = z.enum(['hold', 'rollback']).meta({ description: 'What a metric that cannot be read means: hold the stage, or roll back.' });

const stage = z.union([
  z.int().min(1).max(100).meta({ description: 'A stage percentage, baked for analysis.bake.' }),
  z.strictObject({
    percent: z.int().min(1).max(100).meta({ description: 'Percentage of traffic at this stage.' }),
    bake: duration.optional().meta({ description: 'How long the stage must stay healthy before advancing (default analysis.bake).' }),
    approval: z.boolean().optional().meta({ description: '`run` waits here for a human `rollout advance`.' }),
  }),
]);

const eventAction = z.enum([
  'start', 'advance', 'hold', 'resume', 'rollback', 'emergency-rollback', 'complete', 'drift', 'force', 'recovered', 'not-recovered',
]);

const notifyCommon = {
  url: z.string().min(1),
  on: z.array(eventAction).optional().meta({ description: 'Events to send (default: all but hold and resume).' }),
  headers: headers.optional(),
  timeout: timeout.optional(),
};

const notify = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('slack'), ...notifyCommon }),
  z.strictObject({
    type: z.literal('webhook'),
    ...notifyCommon,
    secret: z.string().min(1).optional().meta({ description: 'Signs each payload: X-Rollout-Signature: sha256=<HMAC-SHA256>.' }),
  }),
]);

/**
 * A metric's (and the traffic counter's) query keys: one per field the source types read by, in
 * registry order. Types that share a field share its key.
 */
function queryFields(kinds: SourceKind[]): Record<string, z.ZodOptional<z.ZodString>> {
  const readers = new Map<string, string[]>();
  for (const { type, query } of kinds) readers.set(query.field, [...(readers.get(query.field) ?? []), `${query.description} (${type} sources)`]);
  return Object.fromEntries([...readers].map(([field, uses]) => [field, z.string().min(1).optional().meta({ description: `${uses.join('; ')}.` })]));
}

/** A source entry as written: its type, its deadline, and its type's own keys. */
export interface RawSource {
  type: string;
  timeout?: string;
  [key: string]: unknown;
}

/** The target as written: its type and its type's own keys. */
export interface RawTarget {
  type: string;
  [key: string]: unknown;
}

/** Entries told apart by `type`, typed as what every type has: each type reads its own keys. */
function byType<Raw>(entries: z.ZodObject[]): z.ZodType<Raw> {
  const [first, ...rest] = entries;
  if (!first) throw new Error('no types registered');
  return z.discriminatedUnion('type', [first, ...rest]) as unknown as z.ZodType<Raw>;
}

/** A type with its schema piece, loaded. */
type Loaded<Kind> = { kind: Kind; shape: z.ZodRawShape };

/** Every registered type of a family with its schema piece, in registry order. */
async function loaded<Kind extends SourceKind | TargetKind>(kinds: Kind[]): Promise<Loaded<Kind>[]> {
  return Promise.all(kinds.map(async (kind) => ({ kind, shape: await kind.schema() })));
}

function sourceSchema(sources: Loaded<SourceKind>[]): z.ZodType<RawSource> {
  return byType(
    sources.map(({ kind, shape }) =>
      z.strictObject({
        type: z.literal(kind.type).meta({ description: kind.description }),
        ...shape,
        timeout: timeout.optional().meta({ description: 'Per-request timeout (default 5s).' }),
      }),
    ),
  );
}

function targetSchema(targets: Loaded<TargetKind>[]): z.ZodType<RawTarget> {
  return byType(targets.map(({ kind, shape }) => z.strictObject({ type: z.literal(kind.type), ...shape })));
}

/** The time a metric's query covers, for the source types whose queries take one. */
function windowField(kinds: SourceKind[]) {
  const types = kinds.filter((kind) => kind.query.takesWindow).map((kind) => kind.type);
  return duration.optional().meta({ description: `The time the query covers, given to it as a parameter (${types.join(', ')} sources); default analysis.interval.` });
}

function buildPlanSchema(sources: Loaded<SourceKind>[], targets: Loaded<TargetKind>[]) {
  const kinds = sources.map(({ kind }) => kind);
  const query = { ...queryFields(kinds), window: windowField(kinds) };
  const metric = z.strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    source: z.string().min(1).meta({ description: 'Name of an entry under `sources`.' }),
    ...query,
    baseline: z.string().min(1).optional().meta({ description: 'Same kind as the query, for the control group; limits then compare relative to it.' }),
    unit: z.enum(['ratio', 'percent', 'seconds', 'milliseconds', 'count']).optional(),
    warning: limit.optional(),
    critical: limit.optional(),
    noData: noData.optional(),
    dryRun: z.boolean().optional().meta({ description: 'Read, shown and recorded, but never changes a decision.' }),
    compare: compareSchema.optional(),
  });
  return z
    .strictObject({
      $schema: z.string().optional(),
      version: z.literal(1),
      name: z
        .string()
        .max(NAME_MAX_LENGTH, `at most ${NAME_MAX_LENGTH} characters: the name is part of the state files' names`)
        .regex(new RegExp(NAME_PATTERN), 'expected lower-case letters, digits and dashes, e.g. checkout-v2'),
      description: z.string().optional(),
      stages: z.array(stage).min(1).meta({ description: 'Strictly ascending percentages, 1..100, the last being 100.' }),
      analysis: z
        .strictObject({
          interval: duration.optional().meta({ description: 'Poll period while a stage bakes (default 30s).' }),
          bake: duration.optional().meta({ description: 'Default bake for stages that set none (default 30m).' }),
          failureLimit: z.int().min(1).optional().meta({ description: 'Consecutive critical polls before a rollback (default 2).' }),
          noData: noData.optional(),
          maxHold: duration.optional().meta({ description: 'How long a warning may hold a stage (default 24h).' }),
          onMaxHold: z.enum(['fail', 'rollback']).optional(),
          minRequests: z.number().min(0).optional().meta({ description: 'Below this traffic a stage cannot be judged (hold).' }),
          requests: z.strictObject({ source: z.string().min(1), ...query }).optional(),
          warmup: duration.optional().meta({ description: 'After a stage is applied, readings are taken but not judged.' }),
        })
        .optional(),
      rollback: z
        .strictObject({
          to: z.union([percent, z.literal('previous')]).optional().meta({ description: '0 (default), a percentage, or `previous` (the stage before).' }),
        })
        .optional(),
      sources: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected a name of letters, digits, _ and -'), sourceSchema(sources)).optional(),
      metrics: z.array(metric).optional(),
      target: targetSchema(targets),
      notify: z.array(notify).optional(),
      state: z
        .strictObject({
          backend: z.enum(['file', 'postgres']).optional(),
          url: z.string().min(1).optional().meta({ description: 'postgres://… for the postgres backend (or ROLLOUT_STATE_URL).' }),
        })
        .optional(),
    })
    .meta({ title: 'rollout plan', description: 'A progressive rollout plan for the `rollout` command-line tool.' });
}

/** The schema of the whole plan file: built on first use, and again after a type is registered. */
export type PlanSchema = ReturnType<typeof buildPlanSchema>;

let built: { generation: string; schema: Promise<PlanSchema> } | undefined;

/** The schema of the whole plan file, with every registered source and target type. */
export function planSchema(): Promise<PlanSchema> {
  const generation = `${sourceKinds.generation}/${targetKinds.generation}`;
  if (built?.generation !== generation) {
    const schema = Promise.all([loaded(sourceKinds.all()), loaded(targetKinds.all())]).then(([sources, targets]) => buildPlanSchema(sources, targets));
    built = { generation, schema };
  }
  return built.schema;
}

/** The plan as written, after schema validation. */
export type RawPlan = z.infer<PlanSchema>;

/**
 * The JSON Schema the plan's generated validator is compiled from (scripts/plan-validator.mjs):
 * the plan schema with the built-in types, each check JSON Schema has no keyword for written as a
 * format (the duration checks, DURATION_FORMATS) so that the validator accepts exactly what the
 * zod schema accepts. A check it cannot write fails here, at generation, not at a plan's expense.
 */
export async function planShapeSchema(): Promise<Record<string, unknown>> {
  const formatOf = new Map<unknown, string>(Object.entries(DURATION_FORMATS).map(([format, check]) => [check, format]));
  return z.toJSONSchema(await planSchema(), {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'throw',
    override({ zodSchema, jsonSchema }) {
      const checks = (zodSchema._zod.def as { checks?: { _zod: { def: { check: string; fn?: unknown } } }[] }).checks ?? [];
      const custom = checks.filter((c) => c._zod.def.check === 'custom').map((c) => c._zod.def.fn);
      if (custom.length === 0) return;
      const formats = custom.map((fn) => formatOf.get(fn));
      if (formats.includes(undefined)) throw new Error('a refinement of the plan schema has no format in DURATION_FORMATS');
      // A timeout is a duration, further checked: its own format covers both.
      jsonSchema.format = formats.includes('rollout-timeout') ? 'rollout-timeout' : 'rollout-duration';
    },
  }) as Record<string, unknown>;
}

/** The JSON Schema of the plan file, for editors (`# yaml-language-server: $schema=...`). */
export async function planJsonSchema(): Promise<Record<string, unknown>> {
  return {
    ...z.toJSONSchema(await planSchema(), { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }),
  };
}
