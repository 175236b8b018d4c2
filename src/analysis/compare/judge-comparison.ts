/**
 * Judging the comparison metrics (`compare:` in the plan): each poll's counts are added to what the
 * stage has counted so far, the sequential test (rate-test.ts) reads the sum, and its answer becomes
 * a reading in words a person reads: "canary 2.1% vs baseline 1%, 97% sure it is worse (needs 99%)".
 */
import { formatRelative, formatValue } from '../format.js';
import type { Reading } from '../reading.js';
import type { CompareConfig, MetricConfig, Plan } from '../../plan/types.js';
import type { RolloutState, StageEvidence } from '../../state/types.js';
import { COUNT_NAMES, type EventCounts, type MetricValue } from '../../readings.js';
import { testRates, type RateTestResult } from './rate-test.js';

/** What judging the comparisons needs besides the values. */
export interface ComparisonContext {
  /** What the stage has counted before this poll (see `stageEvidence`). */
  evidence?: StageEvidence;
  /** When this poll was taken (ms since epoch). */
  now?: number;
  /** Warm-up polls are shown but not counted. */
  warmingUp?: boolean;
}

/** The comparison readings of one poll and the evidence to keep for the next. */
export interface Comparisons {
  readings: Map<string, Reading>;
  evidence?: StageEvidence;
}

/**
 * A poll that comes sooner than this share of the interval after the last one counted is not
 * counted (an extra poll at the end of a bake, a restarted run): its window would overlap the
 * last one's, and events counted twice would overstate the evidence.
 */
const MIN_GAP_OF_INTERVAL = 0.9;

/** The evidence of the state's current stage, or a fresh one; undefined before the first stage. */
export function stageEvidence(state: RolloutState | undefined): StageEvidence | undefined {
  if (!state || state.stageIndex < 0) return undefined;
  const kept = state.evidence;
  if (kept && kept.stageIndex === state.stageIndex && kept.percent === state.percent) return kept;
  return { stageIndex: state.stageIndex, percent: state.percent, counts: {} };
}

/** Judges the plan's comparison metrics, adding this poll's counts to the stage's when it may. */
export function judgeComparisons(plan: Plan, values: Map<string, MetricValue>, context: ComparisonContext): Comparisons {
  const compared = plan.metrics.filter((m) => m.compare !== undefined);
  const readings = new Map<string, Reading>();
  if (compared.length === 0) return { readings };
  const prior = context.evidence;
  if (prior?.percent === 100) {
    // Holding here could not lower anyone's exposure: the stage has no baseline to compare with.
    for (const m of compared) readings.set(m.name, { name: m.name, dryRun: m.dryRun, status: 'ok', display: 'no baseline at 100%', reason: 'not compared: at 100% every request is the canary\'s (limits guard this stage)' });
    return { readings, evidence: prior };
  }
  const lastAt = prior?.lastAt;
  const now = context.now;
  const counts = !context.warmingUp && now !== undefined && (lastAt === undefined || now - lastAt >= MIN_GAP_OF_INTERVAL * plan.analysis.intervalMs);
  const next: Record<string, EventCounts> = { ...prior?.counts };
  for (const metric of compared) {
    const increment = checkCounts(values.get(metric.name) ?? { name: metric.name, noDataReason: 'not read' });
    if ('noDataReason' in increment) {
      readings.set(metric.name, { name: metric.name, dryRun: metric.dryRun, status: 'nodata', display: 'no data', reason: increment.noDataReason });
      continue;
    }
    const before = prior?.counts[metric.name];
    const counted = counts ? addCounts(before, increment) : undefined;
    if (counted) next[metric.name] = counted;
    // Not counted (warm-up, too soon): what the stage has, or this poll alone to show something.
    readings.set(metric.name, judgeComparison(metric, counted ?? before ?? increment));
  }
  if (!prior) return { readings };
  return { readings, evidence: counts ? { ...prior, lastAt: now, counts: next } : prior };
}

/**
 * A poll's counts, or why they cannot be counted: missing, negative or not finite (a broken query,
 * a counter reset read as a difference), or far more events than requests (swapped queries).
 */
function checkCounts(value: MetricValue): EventCounts | { noDataReason: string } {
  if (value.noDataReason !== undefined) return { noDataReason: value.noDataReason };
  const counts = value.counts;
  if (!counts) return { noDataReason: 'no counts' };
  for (const [key, count] of Object.entries(counts)) {
    if (!Number.isFinite(count) || count < 0) return { noDataReason: `${COUNT_NAMES[key as keyof EventCounts]} ${count} is not a count: check the query` };
  }
  // Prometheus extrapolates each increase() on its own, so a group whose every request failed may
  // read a few more events than requests; more than that is a mistake in the queries.
  const overshoot = (events: number, total: number) => events > total + Math.max(1, total * 0.05);
  if (overshoot(counts.canaryEvents, counts.canaryTotal) || overshoot(counts.baselineEvents, counts.baselineTotal)) {
    return { noDataReason: `more events than requests (canary ${counts.canaryEvents}/${counts.canaryTotal}, baseline ${counts.baselineEvents}/${counts.baselineTotal}): check the queries` };
  }
  return { ...counts, canaryEvents: Math.min(counts.canaryEvents, counts.canaryTotal), baselineEvents: Math.min(counts.baselineEvents, counts.baselineTotal) };
}

function addCounts(a: EventCounts | undefined, b: EventCounts): EventCounts {
  if (!a) return { ...b };
  return {
    canaryEvents: a.canaryEvents + b.canaryEvents,
    canaryTotal: a.canaryTotal + b.canaryTotal,
    baselineEvents: a.baselineEvents + b.baselineEvents,
    baselineTotal: a.baselineTotal + b.baselineTotal,
  };
}

/** One comparison metric's reading from its counts so far. */
function judgeComparison(metric: MetricConfig, counts: EventCounts): Reading {
  const base = { name: metric.name, dryRun: metric.dryRun };
  const compare = metric.compare as CompareConfig;
  const result = testRates(counts, compare);
  const display = describeRates(result);
  const relative = result.canaryRate !== undefined && result.baselineRate ? result.canaryRate / result.baselineRate - 1 : undefined;
  const status = result.verdict === 'undecided' ? 'undecided' : result.verdict;
  return { ...base, status, value: result.canaryRate, baseline: result.baselineRate, relative, display, reason: describeEvidence(result, compare), comparison: { ...counts, sureWorse: result.sureWorse, sureNotWorse: result.sureNotWorse } };
}

const rate = (value: number | undefined) => (value === undefined ? 'no traffic' : formatValue(value, 'ratio'));

function describeRates(result: RateTestResult): string {
  return `canary ${rate(result.canaryRate)} vs baseline ${rate(result.baselineRate)}`;
}

/** "How sure", floored so that 98.96 % never reads as the 99 % it has not reached. */
export function formatSure(sure: number): string {
  const tenths = Math.floor(sure * 1000) / 10;
  return `${Number.isInteger(tenths) ? tenths : tenths.toFixed(1)}%`;
}

/** A comparison's "limit" for tables: "worse, 99% sure (effect +50%)". */
export function describeComparisonLimit(compare: CompareConfig): string {
  return `worse, ${formatSure(1 - compare.falseAlarm)} sure (effect ${formatRelative(compare.effect)})`;
}

/** The test's evidence in words: how sure it is each way, and what it needs. */
function describeEvidence(result: RateTestResult, compare: CompareConfig): string {
  const needs = formatSure(1 - compare.falseAlarm);
  const effect = formatRelative(compare.effect);
  const worse = `${formatSure(result.sureWorse)} sure it is worse`;
  const notWorse = `${formatSure(result.sureNotWorse)} sure it is not ${effect} or worse`;
  switch (result.verdict) {
    case 'critical':
      return `${worse} (needs ${needs})`;
    case 'ok':
      return `${notWorse} (needs ${needs})`;
    case 'undecided':
      return `undecided: ${worse}, ${notWorse} (either needs ${needs})`;
  }
}
