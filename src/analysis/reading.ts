/** A judged metric, as the judge (judge.ts) and the comparisons (compare/) make it. */
import type { EventCounts } from '../readings.js';

/** `undecided`: a comparison metric whose test has not yet shown either way (it holds). */
export type ReadingStatus = 'ok' | 'warning' | 'critical' | 'nodata' | 'undecided';

/** A comparison metric's counts since the stage began and how sure its test is each way. */
export interface ComparisonEvidence extends EventCounts {
  sureWorse: number;
  sureNotWorse: number;
}

/** A judged metric. */
export interface Reading {
  name: string;
  status: ReadingStatus;
  value?: number;
  baseline?: number;
  /** (value - baseline) / baseline, for metrics with a baseline. */
  relative?: number;
  /** The value as shown: "1.23%", "+23.5% vs baseline", "no data". */
  display: string;
  reason: string;
  dryRun: boolean;
  comparison?: ComparisonEvidence;
}
