/**
 * The `compare:` block of a metric: canary against baseline as counts, judged by a sequential test
 * (analysis/compare/). Its shape for the schema, and the rules a schema cannot express.
 *
 *   compare:
 *     canary:   { events: <5xx of the canary since the last poll>, total: <its requests> }
 *     baseline: { events: …, total: … }
 *     effect: "+50%"        # the smallest change that matters; + means higher is worse
 *     falseAlarm: 1%        # chance per stage of rolling back a canary that is not worse
 */
import { z } from 'zod';
import { formatDuration, parseDuration } from './duration.js';
import type { DataPath, PathProblem } from './locate.js';
import type { CompareConfig, MetricConfig, NoDataPolicy, SourceConfig } from './types.js';

const counts = z.strictObject({
  events: z.string().min(1).meta({ description: 'The events of this group (e.g. 5xx answers) since the previous poll: a query, path or expression as the source reads it.' }),
  total: z.string().min(1).meta({ description: 'All requests of this group since the previous poll.' }),
});

const SIGNED_PERCENT = /^\s*([+-]\d+(?:\.\d+)?)\s*%\s*$/;
const PERCENT = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;

/** The `compare` block's schema. */
export const compareSchema = z
  .strictObject({
    canary: counts,
    baseline: counts,
    effect: z
      .string()
      .regex(SIGNED_PERCENT, 'expected a signed percentage: "+50%" (a rise of 50% matters) or "-20%" (a drop of 20% matters)')
      .meta({ description: 'The smallest relative change that matters. The sign says which way is worse: "+50%" for error rates, "-20%" for success rates.' }),
    falseAlarm: z
      .string()
      .regex(PERCENT, 'expected a percentage such as 1%')
      .optional()
      .meta({ description: 'The chance per stage of calling a canary worse when it is not (default 1%).' }),
  })
  .meta({ description: 'Compares canary with baseline as counts, with a sequential test that stays valid however often it is polled. Replaces query/path/expr, baseline and limits.' });

/** A metric as written, as far as comparisons care. */
type RawComparisonMetric = Pick<MetricConfig, 'name' | 'source'> & {
  compare: z.infer<typeof compareSchema>;
  [field: string]: unknown;
};

/** Fields of a metric that a comparison replaces. */
const REPLACED = ['query', 'path', 'expr', 'baseline', 'warning', 'critical', 'unit'] as const;

const DEFAULT_FALSE_ALARM = 0.01;
/** Above this, "sure" would mean little. */
const MAX_FALSE_ALARM = 0.2;

/** The four count queries of a comparison with where each is in the plan. */
export function comparisonQueries(compare: RawComparisonMetric['compare'], at: DataPath): [DataPath, string][] {
  return (['canary', 'baseline'] as const).flatMap((group) =>
    (['events', 'total'] as const).map((key): [DataPath, string] => [[...at, 'compare', group, key], compare[group][key]]),
  );
}

/** Builds a comparison metric, adding the problems of its block to `problems`. */
export function buildComparisonMetric(m: RawComparisonMetric, at: DataPath, defaultNoData: NoDataPolicy, problems: PathProblem[]): MetricConfig {
  for (const field of REPLACED) {
    if (m[field] !== undefined) {
      problems.push({ path: [...at, field], message: `\`${field}\` does not apply to a comparison metric`, hint: 'a metric with `compare:` reads its four counts there and is judged by its test, not by limits', atKey: true });
    }
  }
  const effect = Number(SIGNED_PERCENT.exec(m.compare.effect)?.[1]) / 100;
  if (effect === 0 || effect <= -1) {
    problems.push({ path: [...at, 'compare', 'effect'], message: `effect "${m.compare.effect}" cannot be told apart from no change`, hint: 'write the smallest change that matters, e.g. "+50%" (or a drop above -100%, e.g. "-20%")' });
  }
  const falseAlarm = m.compare.falseAlarm === undefined ? DEFAULT_FALSE_ALARM : Number(PERCENT.exec(m.compare.falseAlarm)?.[1]) / 100;
  if (!(falseAlarm > 0 && falseAlarm <= MAX_FALSE_ALARM)) {
    problems.push({ path: [...at, 'compare', 'falseAlarm'], message: `falseAlarm ${m.compare.falseAlarm} is out of range`, hint: `use a chance above 0% and at most ${MAX_FALSE_ALARM * 100}%; 1% is the default` });
  }
  const compare: CompareConfig = { canary: { ...m.compare.canary }, baseline: { ...m.compare.baseline }, effect, falseAlarm };
  return {
    name: m.name,
    source: m.source,
    unit: 'ratio',
    noData: (m.noData as NoDataPolicy | undefined) ?? defaultNoData,
    dryRun: (m.dryRun as boolean | undefined) ?? false,
    compare,
  };
}

/** A PromQL range selector or subquery, e.g. [30s], [1m30s], [5m:1m]. */
const RANGE = /\[\s*([^\]:\s]+)\s*(?::[^\]]*)?\]/g;

/**
 * Counts are added up poll after poll, so each query must count since the previous poll only:
 * a Prometheus range longer than the interval, or no range at all (a counter's running total),
 * or an exposition expression without increase(), would count the same events again and again
 * and overstate the evidence. (A json source's path cannot be checked; see the README.)
 */
export function checkComparisonWindows(compare: RawComparisonMetric['compare'], at: DataPath, source: SourceConfig, intervalMs: number, problems: PathProblem[]): void {
  const interval = formatDuration(intervalMs);
  for (const [path, text] of comparisonQueries(compare, at)) {
    if (source.type === 'prometheus') {
      const ranges = [...text.matchAll(RANGE)].map((match) => ({ text: match[1] as string, ms: parseDuration(match[1] as string) }));
      const tooLong = ranges.find((range) => range.ms === undefined || range.ms > intervalMs);
      if (ranges.length === 0 || tooLong) {
        problems.push({
          path,
          message: tooLong ? `the range [${tooLong.text}] is longer than the poll interval (${interval}): events would be counted more than once` : 'this query has no range: a running total would be counted again every poll',
          hint: `count since the previous poll, e.g. sum(increase(http_requests_total{variant="canary"}[${interval}]))`,
        });
      }
    } else if (source.type === 'exposition' && !/\bincrease\s*\(/.test(text)) {
      problems.push({ path, message: 'this expression has no increase(): a running total would be counted again every poll', hint: 'count since the previous scrape, e.g. sum(increase(http_requests_total{variant="canary"}))' });
    }
  }
}
