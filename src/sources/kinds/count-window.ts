/**
 * A comparison's counts (`compare:`) are added up poll after poll, so each query must count since
 * the previous poll only. The PromQL-reading types (prometheus, exposition) check their ranges here.
 */
import { formatDuration, parseDuration } from '../../plan/duration.js';
import type { QueryProblem } from './kind.js';

/** A PromQL range selector or subquery, e.g. [30s], [1m30s], [5m:1m]. */
const RANGE = /\[\s*([^\]:\s]+)\s*(?::[^\]]*)?\]/g;

/** The ranges a query's text reads over, as written and in ms (undefined when not a duration). */
export function rangesOf(text: string): { text: string; ms: number | undefined }[] {
  return [...text.matchAll(RANGE)].map((match) => ({ text: match[1] as string, ms: parseDuration(match[1] as string) }));
}

/** A range longer than the poll interval overlaps the previous poll's: the same events would be counted twice. */
export function checkRangesWithin(text: string, intervalMs: number): QueryProblem | undefined {
  const tooLong = rangesOf(text).find((range) => range.ms === undefined || range.ms > intervalMs);
  if (!tooLong) return undefined;
  const interval = formatDuration(intervalMs);
  return {
    message: `the range [${tooLong.text}] is longer than the poll interval (${interval}): events would be counted more than once`,
    hint: `count since the previous poll, e.g. sum(increase(http_requests_total{variant="canary"}[${interval}]))`,
  };
}
