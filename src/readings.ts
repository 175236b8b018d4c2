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
}
