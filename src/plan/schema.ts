/**
 * The plan file's shape, defined once: the validator parses with it and `rollout schema` prints
 * the JSON Schema generated from it. Values stay as written (durations, limits as strings);
 * load-plan.ts normalises them and checks the rules a schema cannot express.
 */
import { z } from 'zod';
import { LIMIT_PATTERN } from '../analysis/limits.js';
import { DURATION_PATTERN, MAX_DURATION_MS, MAX_TIMEOUT_MS, parseDuration } from './duration.js';

/** Rollout names key state and history, so they must be safe in file names and URLs. */
export const NAME_PATTERN = '^[a-z0-9][a-z0-9-]*$';

const duration = z
  .string()
  .regex(new RegExp(DURATION_PATTERN), 'expected a duration such as 30s, 5m, 48h or 7d')
  .refine((text) => (parseDuration(text) ?? 0) <= MAX_DURATION_MS, 'expected at most 365d')
  .meta({ description: 'A duration: 500ms, 30s, 5m, 48h, 7d, or combined like 1h30m.' });

/** A request's or program's deadline: above zero, at most an hour (a timer must never overflow). */
const timeout = duration.refine((text) => {
  const ms = parseDuration(text) ?? 0;
  return ms > 0 && ms <= MAX_TIMEOUT_MS;
}, 'expected a timeout above 0 and at most 1h');

const limit = z
  .string()
  .regex(new RegExp(LIMIT_PATTERN), 'expected a limit such as "> 1%", ">= 3s" or "> +20%"')
  .meta({ description: 'A limit: an operator (> >= < <=) and a number with an optional unit (%, ms, s, m, h). A signed percentage ("> +20%") is relative to the metric\'s baseline.' });

const headers = z.record(z.string(), z.string()).meta({ description: 'HTTP headers; values may use ${VAR}.' });
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

const query = {
  query: z.string().min(1).optional().meta({ description: 'PromQL instant query (prometheus sources).' }),
  path: z.string().min(1).optional().meta({ description: 'Dotted path into the JSON document, [n] for array items (json sources).' }),
  expr: z.string().min(1).optional().meta({ description: 'Expression over scraped series (exposition sources).' }),
};

const sourceCommon = {
  url: z.string().min(1),
  headers: headers.optional(),
  timeout: timeout.optional().meta({ description: 'Per-request timeout (default 5s).' }),
};

const source = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('prometheus').meta({ description: 'Prometheus HTTP API (also Thanos, Mimir, VictoriaMetrics).' }), ...sourceCommon }),
  z.strictObject({ type: z.literal('json').meta({ description: 'Any JSON endpoint, read by path.' }), ...sourceCommon }),
  z.strictObject({ type: z.literal('exposition').meta({ description: 'A Prometheus text-format /metrics page, scraped directly.' }), ...sourceCommon }),
]);

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
});

const httpCall = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  url: z.string().min(1),
  headers: headers.optional(),
  body: z.unknown().optional().meta({ description: 'JSON body; the string "{{percent}}" becomes the percentage.' }),
});

const argv = z.array(z.string()).min(1).meta({ description: 'A command and its arguments, run without a shell.' });
const retries = z.int().min(0).max(10).optional().meta({ description: 'Retries on connection errors, timeouts and 5xx (default 3).' });

const target = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('http'),
    set: httpCall,
    get: z.strictObject({ url: z.string().min(1), headers: headers.optional(), path: z.string().min(1) }).optional(),
    emergency: z.array(httpCall).optional(),
    timeout: timeout.optional(),
    retries,
  }),
  z.strictObject({
    type: z.literal('env-file'),
    path: z.string().min(1),
    key: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'expected an environment variable name'),
    after: argv.optional(),
    emergency: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    timeout: timeout.optional(),
  }),
  z.strictObject({
    type: z.literal('unleash'),
    url: z.string().min(1),
    token: z.string().min(1),
    project: z.string().min(1).optional(),
    feature: z.string().min(1),
    environment: z.string().min(1),
    timeout: timeout.optional(),
    retries,
  }),
  z.strictObject({
    type: z.literal('command'),
    set: argv,
    get: argv.optional(),
    emergency: z.array(argv).optional(),
    timeout: timeout.optional(),
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

/** The whole plan file. */
export const planSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1),
    name: z.string().regex(new RegExp(NAME_PATTERN), 'expected lower-case letters, digits and dashes, e.g. checkout-v2'),
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
    sources: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected a name of letters, digits, _ and -'), source).optional(),
    metrics: z.array(metric).optional(),
    target,
    notify: z.array(notify).optional(),
    state: z
      .strictObject({
        backend: z.enum(['file', 'postgres']).optional(),
        url: z.string().min(1).optional().meta({ description: 'postgres://… for the postgres backend (or ROLLOUT_STATE_URL).' }),
      })
      .optional(),
  })
  .meta({ title: 'rollout plan', description: 'A progressive rollout plan for the `rollout` command-line tool.' });

/** The plan as written, after schema validation. */
export type RawPlan = z.infer<typeof planSchema>;

/** The JSON Schema of the plan file, for editors (`# yaml-language-server: $schema=...`). */
export function planJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(planSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }),
  };
}
