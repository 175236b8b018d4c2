/**
 * What a metric read as: made by the sources, consumed by the judge. It lives below both so that
 * neither imports the other for a type.
 */

/** One metric's reading. `noDataReason` means it cannot be judged; `value` may still be shown. */
export interface MetricValue {
  name: string;
  value?: number;
  baseline?: number;
  /** Why there is no usable value (unreachable source, timeout, empty result, …). */
  noDataReason?: string;
  /** A comparison metric's counts of this poll. */
  counts?: EventCounts;
}

/** Events and requests of a comparison's two groups (canary, baseline). */
export interface EventCounts {
  canaryEvents: number;
  canaryTotal: number;
  baselineEvents: number;
  baselineTotal: number;
}

/** The count queries of a comparison, in the order a plan lists them, as a plan names them. */
export const COUNT_NAMES: Readonly<Record<keyof EventCounts, string>> = {
  canaryEvents: 'canary events',
  canaryTotal: 'canary total',
  baselineEvents: 'baseline events',
  baselineTotal: 'baseline total',
};
