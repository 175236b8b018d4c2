/**
 * The `compare:` block of a metric: canary against baseline as counts, judged by a sequential test
 * (analysis/compare/). The rules a schema cannot express; its shape is in compare-schema.ts.
 *
 *   compare:
 *     canary:   { events: <5xx of the canary since the last poll>, total: <its requests> }
 *     baseline: { events: …, total: … }
 *     effect: "+50%"        # the smallest change that matters; + means higher is worse
 *     falseAlarm: 1%        # chance per stage of rolling back a canary that is not worse
 */
import type { z } from 'zod';
import { sourceKinds } from '../sources/kinds/index.js';
import { PERCENT, SIGNED_PERCENT } from './compare-patterns.js';
import type { compareSchema } from './compare-schema.js';
import type { DataPath, PathProblem } from './locate.js';
import type { CompareConfig, MetricConfig, NoDataPolicy } from './types.js';

/** A `compare` block as written. */
export type RawCompare = z.infer<typeof compareSchema>;

/** A metric as written, as far as comparisons care. */
type RawComparisonMetric = Pick<MetricConfig, 'name' | 'source'> & {
  compare: RawCompare;
  [field: string]: unknown;
};

/** Fields of a metric that a comparison replaces: every source type's query field, the baseline, the window, the limits and the unit. */
function replacedFields(): string[] {
  // A comparison counts since the previous poll: its window is the poll interval.
  return [...new Set(sourceKinds.all().map((kind) => kind.query.field)), 'baseline', 'window', 'warning', 'critical', 'unit'];
}

const DEFAULT_FALSE_ALARM = 0.01;
/** Above this, "sure" would mean little. */
const MAX_FALSE_ALARM = 0.2;

/** The four count queries of a comparison with where each is in the plan. */
export function comparisonQueries(compare: RawCompare, at: DataPath): [DataPath, string][] {
  return (['canary', 'baseline'] as const).flatMap((group) =>
    (['events', 'total'] as const).map((key): [DataPath, string] => [[...at, 'compare', group, key], compare[group][key]]),
  );
}

/** Builds a comparison metric, adding the problems of its block to `problems`. */
export function buildComparisonMetric(m: RawComparisonMetric, at: DataPath, defaultNoData: NoDataPolicy, problems: PathProblem[]): MetricConfig {
  for (const field of replacedFields()) {
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
