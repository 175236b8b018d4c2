/**
 * What a metric source type is made of: its schema piece, the field its metrics are read by, the
 * check of that field's text, how its config is built, its factory and its part in `rollout init`.
 * One file per type under src/sources/kinds/, registered in index.ts.
 */
import type { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { MetricUnit, SourceConfig } from '../../plan/types.js';
import type { MetricSource } from '../source.js';

/** The common metrics `rollout init` offers (labels and limits: commands/init-plan.ts). */
export type CommonMetricId = 'error_rate' | 'p95_latency' | 'avg_response_time';

/** What a query, path or expression read by a source means: the reason it cannot be read, and what to do. */
export interface QueryProblem {
  message: string;
  hint: string;
}

/** What building a source needs beyond its config. */
export interface SourceContext {
  /** Every query (and baseline) the plan reads from this source, for sources that prepare them up front. */
  queries: string[];
  /** A file beside the state for this source to keep something between processes, e.g. stateFile('scrape'). */
  stateFile(purpose: string): string;
  clock: Clock;
  /** The poll interval: the window of queries that take one (`QueryField.takesWindow`) and set none. */
  intervalMs: number;
}

/** How a metric reads a source of this type. */
export interface QueryField {
  /** The metric's key holding the query: `query`, `path`, `expr`, … (several types may share one). */
  field: string;
  /** For the schema: what the text is, e.g. "PromQL instant query". */
  description: string;
  /** Checks a query's (or baseline's) text when the plan is validated; undefined when it is fine. */
  check?(text: string): QueryProblem | undefined;
  /** The query is given a time window (the metric's `window:`, else the poll interval), e.g. SQL's $1. */
  takesWindow?: boolean;
  /**
   * Checks a comparison's count query (`compare:`): counts are added up poll after poll, so each
   * must count since the previous poll only, or the same events would be counted again and again.
   * Without it, counts of this type cannot be checked (see the README).
   */
  checkCount?(text: string, intervalMs: number): QueryProblem | undefined;
}

/** How a metric is read from a source of this type in the plan `rollout init` writes. */
export interface InitQuery {
  unit: Extract<MetricUnit, 'ratio' | 'seconds' | 'milliseconds'>;
  text: string;
}

/** A source type's part in `rollout init`; a type without one is not offered there. */
export interface SourceInit {
  /** The wizard's answer for this type. */
  label: string;
  /** The question for the source's URL. */
  url: { message: string; suggest?: string };
  /** Comment lines above the metrics: what the queries assume. */
  assumptions: string[];
  /** How each common metric is read from this type of source. */
  queries: Record<CommonMetricId, InitQuery>;
}

/**
 * A metric source type. `Shape` is its schema piece (its keys besides `type` and `timeout`, which
 * every source has); `Config` what `build` makes of a plan entry and `create` receives.
 */
export interface SourceKind<Shape extends z.ZodRawShape = z.ZodRawShape, Config extends SourceConfig = SourceConfig> {
  /** The `type:` a plan writes. */
  type: string;
  /** One line for the schema (and editors). */
  description: string;
  /**
   * Its schema piece, imported from a module of its own: zod loads only when a plan is rejected
   * by the generated validator (or the schema is printed), not for every valid plan.
   */
  schema(): Promise<Shape>;
  query: QueryField;
  /** Its own options from a schema-valid plan entry; `dir` is the plan's directory. */
  build(raw: z.output<z.ZodObject<Shape>>, dir: string): Omit<Config, keyof SourceConfig>;
  /** The source; implementations are imported here, when a command first reads metrics. */
  create(config: Config, context: SourceContext): Promise<MetricSource>;
  init?: SourceInit;
}

/** Declares a source type with its own shape and config types, for the registry (which knows neither). */
export function defineSourceKind<Shape extends z.ZodRawShape, Config extends SourceConfig>(kind: SourceKind<Shape, Config>): SourceKind {
  return kind as unknown as SourceKind;
}
