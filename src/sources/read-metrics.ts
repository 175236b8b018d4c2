/**
 * One poll: every metric of the plan (and its baseline, and the traffic counter) read in parallel,
 * each under its own source's deadline, so a hanging source costs the others nothing. Failures
 * become `noData` readings with their reason; judging them is analysis/judge.ts's job.
 */
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { MetricConfig, Plan, RequestsConfig, SourceConfig } from '../plan/types.js';
import { createExpositionSource } from './exposition.js';
import { createJsonSource } from './json.js';
import { createPrometheusSource } from './prometheus.js';
import { NoDataError, type MetricSource } from './source.js';

/** What one metric read as. `noData` means it cannot be judged; `value` may still be shown. */
export interface MetricValue {
  name: string;
  value?: number;
  baseline?: number;
  noData?: string;
}

/** Everything one poll reads: the metrics, and `analysis.requests` when the plan has it. */
export interface PollReadings {
  metrics: MetricValue[];
  /** The traffic counter for `analysis.minRequests`, named "requests". */
  requests?: MetricValue;
}

/** How a poll is bounded. */
export interface ReadOptions {
  /** Aborts the whole poll (e.g. Ctrl-C); the poll then rejects instead of returning readings. */
  signal?: AbortSignal;
  /** The deadline of each read from a source; default its `timeoutMs` in the plan. */
  timeoutMs?: (sourceName: string) => number;
}

/**
 * Reads every metric and the traffic counter in one poll, then lets each source finish it.
 * One call per poll: a second call would fetch the json documents and scrape the /metrics pages again.
 */
export async function readPoll(plan: Plan, sources: Record<string, MetricSource>, options: ReadOptions = {}): Promise<PollReadings> {
  const reader = createReader(plan, sources, options);
  const requestsConfig = plan.analysis.requests;
  const [metrics, requests] = await Promise.all([
    Promise.all(plan.metrics.map((metric) => readMetric(metric, reader))),
    requestsConfig && readMetric({ name: 'requests', ...requestsConfig }, reader),
  ]);
  await finishPoll(sources, options);
  return requests ? { metrics, requests } : { metrics };
}

/** What building the sources needs beyond the plan. */
export interface SourcesOptions {
  /** Where the exposition sources keep their previous scrape (beside the state). */
  scrapeDir: string;
  clock: Clock;
}

/** Builds the plan's sources, one per entry of `sources`. */
export function createSources(plan: Plan, options: SourcesOptions): Record<string, MetricSource> {
  const sources: Record<string, MetricSource> = {};
  for (const [name, config] of Object.entries(plan.sources)) sources[name] = createSource(plan, name, config, options);
  return sources;
}

function createSource(plan: Plan, name: string, config: SourceConfig, options: SourcesOptions): MetricSource {
  switch (config.type) {
    case 'prometheus':
      return createPrometheusSource(config);
    case 'json':
      return createJsonSource(config);
    case 'exposition':
      return createExpositionSource(config, {
        expressions: expressionsOf(plan, name),
        scrapeFile: join(options.scrapeDir, `${plan.name}.${name}.scrape.json`),
        clock: options.clock,
      });
    default:
      return unknownType(name, config);
  }
}

// `never` makes a new source type a compile error here; the throw covers a plan that reached us
// with a type the loader should have rejected.
function unknownType(name: string, config: never): never {
  throw new Error(`source ${name}: unknown type ${JSON.stringify((config as { type?: unknown }).type)}`);
}

// The exposition source keeps only the series these need, so it must know them all up front.
function expressionsOf(plan: Plan, sourceName: string): string[] {
  const readables: Omit<Readable, 'name'>[] = [...plan.metrics, ...(plan.analysis.requests ? [plan.analysis.requests] : [])];
  return readables
    .filter((readable) => readable.source === sourceName)
    .flatMap((readable) => [queryOf(readable), readable.baseline])
    .filter((expression): expression is string => expression !== undefined);
}

/** Something read from a source: a metric (with its baseline, if any) or the traffic counter. */
type Readable = RequestsConfig & Pick<MetricConfig, 'name' | 'baseline'>;

/** A read's outcome: the number, or why there is none. */
type Outcome = { value: number } | { noData: string };

type Reader = (sourceName: string, query: string | undefined) => Promise<Outcome>;

function queryOf(readable: RequestsConfig): string | undefined {
  return readable.query ?? readable.path ?? readable.expr;
}

async function readMetric(metric: Readable, read: Reader): Promise<MetricValue> {
  const [main, baseline] = await Promise.all([
    read(metric.source, queryOf(metric)),
    metric.baseline === undefined ? undefined : read(metric.source, metric.baseline),
  ]);
  if ('noData' in main) return { name: metric.name, noData: main.noData };
  if (baseline === undefined) return { name: metric.name, value: main.value };
  if ('noData' in baseline) return { name: metric.name, value: main.value, noData: `baseline: ${baseline.noData}` };
  return { name: metric.name, value: main.value, baseline: baseline.value };
}

function createReader(plan: Plan, sources: Record<string, MetricSource>, options: ReadOptions): Reader {
  return async (sourceName, query) => {
    try {
      const source = sources[sourceName];
      const timeoutMs = options.timeoutMs?.(sourceName) ?? plan.sources[sourceName]?.timeoutMs;
      if (source === undefined || timeoutMs === undefined) throw new Error(`no source named ${sourceName}`);
      if (query === undefined) throw new Error('the metric has no query, path or expr');
      return { value: await measureWithin(source, query, timeoutMs, options.signal) };
    } catch (err) {
      return { noData: err instanceof NoDataError ? err.reason : `unexpected: ${err instanceof Error ? err.message : String(err)}` };
    }
  };
}

// The deadline is enforced here and not only handed to the source as a signal: a source that
// ignores its signal (or is stuck before it reaches the network) must still not hold up the poll.
async function measureWithin(source: MetricSource, query: string, timeoutMs: number, pollSignal?: AbortSignal): Promise<number> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new NoDataError(`timeout after ${timeoutMs} ms`)), timeoutMs);
  const signal = pollSignal ? AbortSignal.any([pollSignal, deadline.signal]) : deadline.signal;
  try {
    return await untilAborted(source.measure(query, signal), signal);
  } finally {
    clearTimeout(timer);
  }
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

// Readings of an interrupted poll are not judged: the caller gets the abort instead. A source
// that cannot finish its poll (e.g. cannot persist its scrape) fails the poll loudly.
async function finishPoll(sources: Record<string, MetricSource>, options: ReadOptions): Promise<void> {
  const results = await Promise.allSettled(Object.values(sources).map((source) => source.finishPoll?.()));
  options.signal?.throwIfAborted();
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}
