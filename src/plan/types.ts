/**
 * The typed, normalised plan every other module works with. The YAML shape (with strings such as
 * "30m" and "> 1%") lives in schema.ts; load-plan.ts turns one into the other.
 */
import type { Secrets } from './secrets.js';

/** A unit a metric's value is expressed in. */
export type MetricUnit = 'ratio' | 'percent' | 'seconds' | 'milliseconds' | 'count';

/** Comparison operator of a limit. */
export type LimitOp = '>' | '>=' | '<' | '<=';

/** A parsed limit. `value` is in the metric's unit, or a fraction (0.2 = 20 %) when `relative`. */
export interface Limit {
  op: LimitOp;
  value: number;
  /** True for "> +20%": compares (value - baseline) / baseline. */
  relative: boolean;
  /** The limit as written in the plan, for display. */
  text: string;
}

/** What a metric that cannot be read means for the decision. */
export type NoDataPolicy = 'hold' | 'rollback';

export interface Stage {
  percent: number;
  bakeMs: number;
  /** `run` waits here for a human `advance`. */
  approval: boolean;
}

export interface HttpHeaders {
  [name: string]: string;
}

/**
 * A configured metric source: what every type has. Its type's own options (e.g. `url`) come on
 * top; their shape is the type's business (src/sources/kinds/), so a new type needs no edit here.
 */
export interface SourceConfig {
  type: string;
  name: string;
  /** The deadline of each read in a poll. */
  timeoutMs: number;
}

/** What a comparison metric reads for one group: its events and its requests, as counts. */
export interface CountQueries {
  events: string;
  total: string;
}

/** A canary-vs-baseline comparison judged by a sequential test (analysis/compare/). */
export interface CompareConfig {
  canary: CountQueries;
  baseline: CountQueries;
  /** Smallest relative change that matters, signed by the worse direction: +0.5, -0.2. */
  effect: number;
  /** The chance per stage of a false alarm, e.g. 0.01. */
  falseAlarm: number;
}

/**
 * One metric to read and judge. `query` is the text of the field the source's type reads by
 * (`query` for prometheus, `path` for json, `expr` for exposition); `baseline` is of the same kind.
 * A metric with `compare` has neither (nor limits): its four counts, in its source's query
 * language, are in `compare`.
 */
export interface MetricConfig {
  name: string;
  source: string;
  /** Absent on a comparison metric. */
  query?: string;
  baseline?: string;
  /** The time the query covers (`window:`), for sources that take one; default the poll interval. */
  windowMs?: number;
  unit: MetricUnit;
  warning?: Limit;
  critical?: Limit;
  noData: NoDataPolicy;
  dryRun: boolean;
  compare?: CompareConfig;
}

/** The traffic counter read to enforce `analysis.minRequests`. */
export interface RequestsConfig {
  source: string;
  /** As a metric's `query`. */
  query: string;
  /** As a metric's `windowMs`. */
  windowMs?: number;
}

export interface AnalysisConfig {
  intervalMs: number;
  bakeMs: number;
  failureLimit: number;
  noData: NoDataPolicy;
  maxHoldMs: number;
  onMaxHold: 'fail' | 'rollback';
  minRequests?: number;
  requests?: RequestsConfig;
  warmupMs: number;
}

/**
 * The configured target: its type, and the type's own options on top (their shape is the type's
 * business, src/targets/kinds/), so a new type needs no edit here.
 */
export interface TargetConfig {
  type: string;
}

/** History actions a notifier can subscribe to (SPEC §3), plus `not-recovered`. */
export type EventAction =
  | 'start'
  | 'advance'
  | 'hold'
  | 'resume'
  | 'rollback'
  | 'emergency-rollback'
  | 'complete'
  | 'drift'
  | 'force'
  | 'recovered'
  | 'not-recovered';

export interface NotifyConfig {
  type: 'slack' | 'webhook';
  url: string;
  on: EventAction[];
  headers: HttpHeaders;
  /** HMAC-SHA256 key for the webhook's signature header. */
  secret?: string;
  timeoutMs: number;
}

export interface StateConfig {
  backend: 'file' | 'postgres';
  url?: string;
}

/** A loaded, validated plan. */
export interface Plan {
  /** Absolute path of the plan file. */
  file: string;
  /** Directory of the plan file; relative paths in the plan resolve against it. */
  dir: string;
  version: 1;
  name: string;
  description?: string;
  stages: Stage[];
  analysis: AnalysisConfig;
  rollback: { to: number | 'previous' };
  sources: Record<string, SourceConfig>;
  metrics: MetricConfig[];
  target: TargetConfig;
  notify: NotifyConfig[];
  state: StateConfig;
  /** Values interpolated from `${VAR}`; never printed. */
  secrets: Secrets;
  /** The plan's own words for its target, kept in state so an emergency runs without the plan. */
  record?: PlanRecord;
}

/**
 * What `rollback --emergency --name` needs when the plan cannot be read: the plan's path and hash,
 * and its `target` (with its emergency actions) and `notify` sections as written, `${VAR}`
 * references un-interpolated, so no secret is stored and each is read from the environment then.
 */
export interface PlanRecord {
  /** Absolute path of the plan file. */
  file: string;
  /** SHA-256 of the plan file's text, hex. */
  sha256: string;
  target: unknown;
  notify?: unknown;
}
