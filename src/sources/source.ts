/**
 * A metric provider: turns a query into one number, or throws `NoDataError` with the reason.
 * Providers never judge; see analysis/judge.ts.
 */

/** The metric could not be read; `reason` says why, in words an operator understands. */
export class NoDataError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'NoDataError';
  }
}

/** Reads numbers from one configured source. `query` is a PromQL query, a JSON path, an expression or SQL. */
export interface MetricSource {
  /** `windowMs`: the metric's `window:`, for sources whose queries take one (default the poll interval). */
  measure(query: string, signal: AbortSignal, windowMs?: number): Promise<number>;
  /** Called once after a poll; the exposition source persists its scrape here. */
  finishPoll?(): Promise<void>;
}
