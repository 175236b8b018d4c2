/**
 * The poll log: every reading `run` took, kept per rollout for the report's charts and the trend
 * column of `status`. History records changes; samples record each poll, so a chart shows what a
 * metric did between two decisions.
 *
 * Bounded: the last KEEP_FULL polls are kept as they were; older ones are thinned to at most
 * KEEP_OLDER samples by halving them pairwise, keeping the worse poll of each pair (a critical
 * reading outlives a healthy one beside it) with the count of polls it now stands for. So a
 * week of 1-second polls still charts its spikes, and the last half hour is exact.
 *
 * Samples hold numbers and metric names only, never text a secret could be in.
 */
import type { Reading } from '../analysis/reading.js';

/** One poll's readings. */
export interface MetricSample {
  /** ISO-8601 time of the poll. */
  time: string;
  /** The percentage applied while it was read. */
  percent: number;
  /** The poll's verdict (a judgement's). */
  verdict: 'healthy' | 'hold' | 'critical';
  /** Metric name → value (null: no data). */
  metrics: Record<string, number | null>;
  /** Metric name → its baseline's value, for metrics compared with one. */
  baselines?: Record<string, number>;
  /** How many polls this sample stands for after compaction (absent: one). */
  polls?: number;
}

/** Polls kept exactly, newest first to go last. */
export const KEEP_FULL = 2000;
/** Older polls are thinned to this many samples. */
export const KEEP_OLDER = 1000;
/** Stores compact once this many samples are stored, so a compaction is not paid on every poll. */
export const COMPACT_AT = KEEP_FULL + KEEP_OLDER + 500;

/** The sample of one poll's readings. */
export function sampleOf(time: number, percent: number, verdict: MetricSample['verdict'], readings: Reading[]): MetricSample {
  const metrics: Record<string, number | null> = {};
  const baselines: Record<string, number> = {};
  for (const r of readings) {
    metrics[r.name] = r.status === 'nodata' ? null : (r.value ?? null);
    if (r.baseline !== undefined && r.status !== 'nodata') baselines[r.name] = r.baseline;
  }
  return { time: new Date(time).toISOString(), percent, verdict, metrics, ...(Object.keys(baselines).length ? { baselines } : {}) };
}

const SEVERITY: Record<MetricSample['verdict'], number> = { healthy: 0, hold: 1, critical: 2 };

/** The worse of two neighbouring samples, standing for the polls of both. */
function mergePair(a: MetricSample, b: MetricSample): MetricSample {
  const kept = SEVERITY[b.verdict] > SEVERITY[a.verdict] ? b : a;
  return { ...kept, polls: (a.polls ?? 1) + (b.polls ?? 1) };
}

/** Thins `samples` to at most KEEP_FULL + KEEP_OLDER (see the module comment); returns them unchanged when within. */
export function compactSamples(samples: MetricSample[], keepFull = KEEP_FULL, keepOlder = KEEP_OLDER): MetricSample[] {
  if (samples.length <= keepFull + keepOlder) return samples;
  let older = samples.slice(0, samples.length - keepFull);
  while (older.length > keepOlder) {
    const halved: MetricSample[] = [];
    for (let i = 0; i < older.length; i += 2) {
      const [a, b] = [older[i], older[i + 1]];
      if (a) halved.push(b ? mergePair(a, b) : a);
    }
    older = halved;
  }
  return [...older, ...samples.slice(samples.length - keepFull)];
}

/** Writes a run's samples in the background, in order, one write at a time. */
export interface SampleRecorder {
  /** Queues a sample; never throws and never waits. */
  record(sample: MetricSample): void;
  /** Waits for the queued samples to be written (or to have failed). */
  flush(): Promise<void>;
}

/**
 * A recorder on `store`. Samples queued while a write is under way go in the next write, so a
 * slow store never holds up the polls; a failed write is a `warn`ing (once until a write succeeds
 * again) and its samples are dropped: charts must never stop a rollout.
 */
export function createSampleRecorder(store: { appendSamples(samples: MetricSample[]): Promise<void> }, warn: (message: string) => void): SampleRecorder {
  let pending: MetricSample[] = [];
  let writing: Promise<void> | undefined;
  let failing = false;
  async function drain(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      try {
        await store.appendSamples(batch);
        failing = false;
      } catch (err) {
        if (!failing) warn(`warning: readings not kept for the report's charts: ${err instanceof Error ? err.message : String(err)}`);
        failing = true;
      }
    }
    writing = undefined;
  }
  return {
    record(sample) {
      pending.push(sample);
      writing ??= drain();
    },
    async flush() {
      await writing;
    },
  };
}
