/**
 * One poll: every metric of the plan (and its baseline, and the traffic counter) read in parallel,
 * each under its source's deadline, so a hanging source costs the others nothing. Failures
 * become no-data readings with their reason; judging them is analysis/judge.ts's job.
 */
import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { MetricConfig, Plan } from '../plan/types.js';
import { COUNT_NAMES, type EventCounts, type MetricValue } from '../readings.js';
import { sourceKinds } from './kinds/index.js';
import { NoDataError, type MetricSource } from './source.js';

export type { MetricValue };

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
  const reader = new PollReader(plan, sources, options);
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
  /** Where sources keep files between processes (the exposition scrape), beside the state. */
  scrapeDir: string;
  clock: Clock;
}

/** Builds the plan's sources, one per entry of `sources`, each type's implementation loaded now. */
export async function createSources(plan: Plan, options: SourcesOptions): Promise<Record<string, MetricSource>> {
  const entries = Object.entries(plan.sources).map(async ([name, config]) => {
    const kind = sourceKinds.find(config.type);
    // Only a config that bypassed the plan's schema gets here with a type no one registered.
    if (!kind) throw new Error(`source ${name}: unknown type ${JSON.stringify(config.type)}`);
    const context = {
      queries: queriesOf(plan, name),
      stateFile: (purpose: string) => join(options.scrapeDir, `${plan.name}.${name}.${purpose}.json`),
      clock: options.clock,
      intervalMs: plan.analysis.intervalMs,
    };
    return [name, await kind.create(config, context)] as const;
  });
  return Object.fromEntries(await Promise.all(entries));
}

// Some sources (exposition) keep only the series these need, so they must know them all up front.
function queriesOf(plan: Plan, sourceName: string): string[] {
  const readables: Omit<Readable, 'name'>[] = [...plan.metrics, ...(plan.analysis.requests ? [plan.analysis.requests] : [])];
  return readables
    .filter((readable) => readable.source === sourceName)
    .flatMap((readable) => [readable.query, readable.baseline, ...countQueries(readable)])
    .filter((query): query is string => query !== undefined);
}

/** Something read from a source: a metric (with its baseline or comparison, if any) or the traffic counter. */
type Readable = Pick<MetricConfig, 'name' | 'source' | 'query' | 'baseline' | 'windowMs' | 'compare'>;

/** A comparison's four count queries, in the order of COUNT_NAMES. */
function countQueries(readable: Omit<Readable, 'name'>): string[] {
  const c = readable.compare;
  return c ? [c.canary.events, c.canary.total, c.baseline.events, c.baseline.total] : [];
}

/** A read's outcome: the number, or why there is none. */
type Outcome = { value: number } | { noDataReason: string };

async function readMetric(metric: Readable, reader: PollReader): Promise<MetricValue> {
  if (metric.compare) return readCounts(metric, reader);
  // Only a plan that bypassed build-plan.ts has a metric with neither query nor comparison.
  if (metric.query === undefined) return { name: metric.name, noDataReason: 'the metric has no query' };
  const [main, baseline] = await Promise.all([
    reader.read(metric.source, metric.query, metric.windowMs),
    metric.baseline === undefined ? undefined : reader.read(metric.source, metric.baseline, metric.windowMs),
  ]);
  if ('noDataReason' in main) return { name: metric.name, noDataReason: main.noDataReason };
  if (baseline === undefined) return { name: metric.name, value: main.value };
  if ('noDataReason' in baseline) return { name: metric.name, value: main.value, noDataReason: `baseline: ${baseline.noDataReason}` };
  return { name: metric.name, value: main.value, baseline: baseline.value };
}

/** Reads a comparison's four counts; any one unreadable makes the whole no data (the judge checks the numbers). */
async function readCounts(metric: Readable, reader: PollReader): Promise<MetricValue> {
  const keys = Object.keys(COUNT_NAMES) as (keyof EventCounts)[];
  const outcomes = await Promise.all(countQueries(metric).map((query) => reader.read(metric.source, query)));
  const counts = { canaryEvents: 0, canaryTotal: 0, baselineEvents: 0, baselineTotal: 0 };
  for (const [i, outcome] of outcomes.entries()) {
    const key = keys[i] as keyof EventCounts;
    if ('noDataReason' in outcome) return { name: metric.name, noDataReason: `${COUNT_NAMES[key]}: ${outcome.noDataReason}` };
    counts[key] = outcome.value;
  }
  return { name: metric.name, counts };
}

/**
 * The reads of one poll, each source's under one deadline its reads share. They all start in the
 * same tick (`readPoll`), so the shared deadline bounds each read as one of its own would, at a
 * fraction of the cost per read (benchmark 3, bench/README.md).
 */
class PollReader {
  private readonly deadlines = new Map<string, Deadline>();

  constructor(
    private readonly plan: Plan,
    private readonly sources: Record<string, MetricSource>,
    private readonly options: ReadOptions,
  ) {}

  async read(sourceName: string, query: string, windowMs?: number): Promise<Outcome> {
    try {
      const source = this.sources[sourceName];
      const timeoutMs = this.options.timeoutMs?.(sourceName) ?? this.plan.sources[sourceName]?.timeoutMs;
      if (source === undefined || timeoutMs === undefined) throw new Error(`no source named ${sourceName}`);
      let deadline = this.deadlines.get(sourceName);
      if (deadline === undefined) this.deadlines.set(sourceName, (deadline = new Deadline(timeoutMs, this.options.signal)));
      return { value: await deadline.measure(source, query, windowMs) };
    } catch (err) {
      return { noDataReason: err instanceof NoDataError ? err.reason : `unexpected: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
}

/**
 * One source's deadline in one poll, also ended by the poll's signal, and over with the last read
 * it bounds (so a source that answered in time never sees its signal abort). It is enforced here
 * and not only handed to the source as a signal: a source that ignores its signal (or is stuck
 * before it reaches the network) must still not hold up the poll.
 */
class Deadline {
  private readonly controller = new AbortController();
  /** Aborts at the deadline or with the poll. */
  private readonly signal: AbortSignal;
  private readonly timer: NodeJS.Timeout;
  private reads = 0;
  private expire!: (reason: unknown) => void;
  /** Rejects with the signal's reason when it aborts; each read races it. */
  private readonly expired = new Promise<never>((_resolve, reject) => {
    this.expire = reject;
  });

  constructor(timeoutMs: number, pollSignal: AbortSignal | undefined) {
    this.signal = pollSignal ? AbortSignal.any([pollSignal, this.controller.signal]) : this.controller.signal;
    // Each read's HTTP request listens to this signal: dozens at once are expected, not a leak to warn of.
    setMaxListeners(0, this.signal);
    this.timer = setTimeout(() => this.controller.abort(new NoDataError(`timeout after ${timeoutMs} ms`)), timeoutMs);
    // Listening before any read starts, `expired` rejects before a source reacts to the abort: the
    // read fails with the signal's reason, not with whatever its source makes of the abort.
    if (this.signal.aborted) this.onAbort();
    else this.signal.addEventListener('abort', this.onAbort);
  }

  async measure(source: MetricSource, query: string, windowMs: number | undefined): Promise<number> {
    this.reads++;
    try {
      return await Promise.race([source.measure(query, this.signal, windowMs), this.expired]);
    } finally {
      if (--this.reads === 0) this.end();
    }
  }

  private readonly onAbort = (): void => {
    this.end();
    this.expire(this.signal.reason);
  };

  private end(): void {
    clearTimeout(this.timer);
    this.signal.removeEventListener('abort', this.onAbort);
  }
}

// Readings of an interrupted poll are not judged: the caller gets the abort instead. A source
// that cannot finish its poll (e.g. cannot persist its scrape) fails the poll loudly.
async function finishPoll(sources: Record<string, MetricSource>, options: ReadOptions): Promise<void> {
  const results = await Promise.allSettled(Object.values(sources).map((source) => source.finishPoll?.()));
  options.signal?.throwIfAborted();
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}
