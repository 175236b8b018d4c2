/**
 * The judge: pure functions from metric values to readings (ok / warning / critical / nodata) and
 * one verdict for the poll, the worst reading winning. Sources never judge; this is the only place.
 */
import type { Limit, MetricConfig, Plan } from '../plan/types.js';
import type { MetricValue } from '../readings.js';
import type { StageEvidence } from '../state/types.js';
import { judgeComparisons, type ComparisonContext } from './compare/judge-comparison.js';
import type { ComparisonEvidence, Reading, ReadingStatus } from './reading.js';
import { breaches } from './limits.js';
import { formatRelative, formatValue } from './format.js';

export type { MetricValue };

export type { ComparisonEvidence, Reading, ReadingStatus };

export type Verdict = 'healthy' | 'hold' | 'critical';

/** The judgement of one poll. */
export interface Judgement {
  verdict: Verdict;
  readings: Reading[];
  /** Why the verdict is not healthy (empty when healthy). */
  reasons: string[];
  /** Taken during `analysis.warmup`: shown, never acted on (the verdict is then a hold). */
  warmingUp: boolean;
  /**
   * What the readings say, warm-up aside: equal to `verdict` outside warm-up. `--force` looks at
   * it, so a critical reading is never overridden just because it came in during warm-up.
   */
  readingsVerdict: Verdict;
  /** The comparison metrics' counts including this poll, for the state to keep. */
  evidence?: StageEvidence;
}

/** What the judge needs besides the values. */
export interface JudgeContext extends ComparisonContext {
  /** Readings taken during `analysis.warmup` are shown but not judged. */
  warmingUp?: boolean;
  /** The traffic counter for `analysis.minRequests`. */
  requests?: MetricValue;
}

const SEVERITY: Record<Verdict, number> = { healthy: 0, hold: 1, critical: 2 };

/** Returns the worse of two verdicts. */
export function worseVerdict(a: Verdict, b: Verdict): Verdict {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}

function describeLimit(kind: 'warning' | 'critical', limit: Limit): string {
  return `${kind} ${limit.text}`;
}

/** Judges one metric's value against its limits. */
export function judgeMetric(metric: MetricConfig, value: MetricValue): Reading {
  const base = { name: metric.name, dryRun: metric.dryRun };
  if (value.noDataReason !== undefined || value.value === undefined) {
    return { ...base, status: 'nodata', display: 'no data', reason: value.noDataReason ?? 'no value' };
  }
  if (!Number.isFinite(value.value) || (value.baseline !== undefined && !Number.isFinite(value.baseline))) {
    return { ...base, status: 'nodata', display: 'no data', reason: `not a finite number (${value.value}${value.baseline === undefined ? '' : ` vs baseline ${value.baseline}`})` };
  }
  // Every unit measures something that cannot go below zero: a negative number is a broken query
  // or a counter gone wrong, and judging it would read a -100% error rate as healthy.
  const negative = value.value < 0 ? value.value : value.baseline !== undefined && value.baseline < 0 ? value.baseline : undefined;
  if (negative !== undefined) {
    const which = negative === value.value ? 'value' : 'baseline';
    return { ...base, status: 'nodata', value: value.value, baseline: value.baseline, display: 'no data', reason: `negative ${which} ${negative} cannot be a ${metric.unit}: check the query` };
  }
  let compared = value.value;
  let display = formatValue(value.value, metric.unit);
  let relative: number | undefined;
  if (metric.baseline !== undefined) {
    if (value.baseline === undefined) {
      return { ...base, status: 'nodata', value: value.value, display: 'no data', reason: 'baseline: no value' };
    }
    if (value.baseline === 0) {
      return { ...base, status: 'nodata', value: value.value, baseline: 0, display: 'no data', reason: 'baseline is 0: no relative difference can be computed' };
    }
    relative = (value.value - value.baseline) / Math.abs(value.baseline);
    compared = relative;
    display = `${formatRelative(relative)} vs baseline`;
  }
  const extra = { value: value.value, baseline: value.baseline, relative, display };
  if (metric.critical && breaches(metric.critical, compared)) {
    return { ...base, ...extra, status: 'critical', reason: `breaches ${describeLimit('critical', metric.critical)}` };
  }
  if (metric.warning && breaches(metric.warning, compared)) {
    return { ...base, ...extra, status: 'warning', reason: `breaches ${describeLimit('warning', metric.warning)}` };
  }
  return { ...base, ...extra, status: 'ok', reason: 'within limits' };
}

/** Judges a whole poll: every metric, the traffic floor and warm-up; the worst verdict wins. */
export function judgePoll(plan: Plan, values: MetricValue[], context: JudgeContext = {}): Judgement {
  const byName = new Map(values.map((v) => [v.name, v]));
  const comparisons = judgeComparisons(plan, byName, context);
  const readings = plan.metrics.map((m) => comparisons.readings.get(m.name) ?? judgeMetric(m, byName.get(m.name) ?? { name: m.name, noDataReason: 'not read' }));
  const evidence = comparisons.evidence && { evidence: comparisons.evidence };
  let verdict: Verdict = 'healthy';
  const reasons: string[] = [];
  const raise = (to: Verdict, reason: string) => {
    verdict = worseVerdict(verdict, to);
    reasons.push(reason);
  };
  plan.metrics.forEach((metric, i) => {
    const reading = readings[i] as Reading;
    if (metric.dryRun) return;
    if (reading.status === 'critical') raise('critical', `${metric.name} ${reading.display}${reading.comparison ? ',' : ''} ${reading.reason}`);
    else if (reading.status === 'undecided') raise('hold', `${metric.name} ${reading.display}, ${reading.reason}`);
    else if (reading.status === 'warning') raise('hold', `${metric.name} ${reading.display} ${reading.reason}`);
    else if (reading.status === 'nodata') {
      raise(metric.noData === 'rollback' ? 'critical' : 'hold', `${metric.name} has no data (${reading.reason})`);
    }
  });
  const { minRequests } = plan.analysis;
  if (minRequests !== undefined) {
    const requests = context.requests;
    if (!requests || requests.value === undefined) {
      raise('hold', `traffic unknown (${requests?.noDataReason ?? 'not read'}): cannot judge below minRequests ${minRequests}`);
    } else if (requests.value < minRequests) {
      raise('hold', `traffic too low to judge: ${formatValue(requests.value, 'count')} requests < minRequests ${minRequests}`);
    }
  }
  if (context.warmingUp) {
    // Warm-up readings are shown but never acted on, whatever they say.
    return { verdict: 'hold', readings, reasons: ['warming up: readings are not judged yet'], warmingUp: true, readingsVerdict: verdict, ...evidence };
  }
  return { verdict, readings, reasons, warmingUp: false, readingsVerdict: verdict, ...evidence };
}
