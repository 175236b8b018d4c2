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

export interface PrometheusSourceConfig {
  type: 'prometheus';
  name: string;
  url: string;
  headers: HttpHeaders;
  timeoutMs: number;
}

export interface JsonSourceConfig {
  type: 'json';
  name: string;
  url: string;
  headers: HttpHeaders;
  timeoutMs: number;
}

export interface ExpositionSourceConfig {
  type: 'exposition';
  name: string;
  url: string;
  headers: HttpHeaders;
  timeoutMs: number;
}

export type SourceConfig = PrometheusSourceConfig | JsonSourceConfig | ExpositionSourceConfig;

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
 * One metric to read and judge. Exactly one of `query` (prometheus), `path` (json) or
 * `expr` (exposition) is set, matching the source's type; `baseline` is of the same kind.
 * A metric with `compare` has none of them (nor limits): its four counts are in `compare`.
 */
export interface MetricConfig {
  name: string;
  source: string;
  query?: string;
  path?: string;
  expr?: string;
  baseline?: string;
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
  query?: string;
  path?: string;
  expr?: string;
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

export interface HttpCall {
  method: string;
  url: string;
  headers: HttpHeaders;
  /** JSON body; the string "{{percent}}" anywhere in it becomes the percentage as a number. */
  body?: unknown;
}

export interface HttpTargetConfig {
  type: 'http';
  set: HttpCall;
  get?: { url: string; headers: HttpHeaders; path: string };
  emergency: HttpCall[];
  timeoutMs: number;
  retries: number;
}

export interface EnvFileTargetConfig {
  type: 'env-file';
  /** Absolute path (resolved against the plan's directory). */
  path: string;
  key: string;
  after?: string[];
  emergency: Record<string, string>;
  timeoutMs: number;
}

export interface UnleashTargetConfig {
  type: 'unleash';
  url: string;
  token: string;
  project: string;
  feature: string;
  environment: string;
  timeoutMs: number;
  retries: number;
}

export interface CommandTargetConfig {
  type: 'command';
  /** argv; "{{percent}}" in any element becomes the percentage. */
  set: string[];
  get?: string[];
  emergency: string[][];
  timeoutMs: number;
}

export type TargetConfig =
  | HttpTargetConfig
  | EnvFileTargetConfig
  | UnleashTargetConfig
  | CommandTargetConfig;

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
}
