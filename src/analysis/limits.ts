/** Limits such as `"> 1%"`, `">= 3s"` or `"> +20%"` (relative to a baseline), in the metric's unit. */
import type { Limit, LimitOp, MetricUnit } from '../plan/types.js';

/** Matches a limit; shared with the JSON Schema. */
export const LIMIT_PATTERN = '^\\s*(>=|<=|>|<)\\s*([+-]?\\d+(\\.\\d+)?)\\s*(%|ms|s|m|h)?\\s*$';
const LIMIT_RE = new RegExp(LIMIT_PATTERN);

/** What each unit suffix is worth in each metric unit; a missing entry means "does not apply". */
const CONVERSIONS: Record<string, Partial<Record<MetricUnit, number>>> = {
  '': { ratio: 1, percent: 1, seconds: 1, milliseconds: 1, count: 1 },
  '%': { ratio: 0.01, percent: 1 },
  ms: { seconds: 0.001, milliseconds: 1 },
  s: { seconds: 1, milliseconds: 1000 },
  m: { seconds: 60, milliseconds: 60_000 },
  h: { seconds: 3600, milliseconds: 3_600_000 },
};

/** Why a limit text could not be used, with a hint. */
export interface LimitProblem {
  message: string;
  hint: string;
}

/**
 * Parses a limit for a metric of `unit`. A signed percentage (`+20%`, `-10%`) is relative and is
 * only allowed on a metric with a baseline; a metric with a baseline only takes relative limits.
 */
export function parseLimit(text: string, unit: MetricUnit, hasBaseline: boolean): Limit | LimitProblem {
  const match = LIMIT_RE.exec(text);
  if (!match) {
    return { message: `"${text}" is not a limit`, hint: 'write an operator and a number, e.g. "> 1%", ">= 3s", "> +20%"' };
  }
  const op = match[1] as LimitOp;
  const number = match[2] as string;
  const suffix = match[4] ?? '';
  // "+20%" and "-10%" are changes from a baseline; a bare "-1" is an absolute limit below zero,
  // which the plan's range check refuses in the metric's own terms.
  const relative = number.startsWith('+') || (number.startsWith('-') && (hasBaseline || suffix === '%'));
  if (relative) {
    if (suffix !== '%') {
      return { message: `relative limit "${text}" needs a percentage`, hint: 'write it as e.g. "> +20%"' };
    }
    if (!hasBaseline) {
      return {
        message: `relative limit "${text}" needs a baseline to compare with`,
        hint: 'add `baseline:` (the control group\'s query) to this metric, or drop the sign for an absolute limit',
      };
    }
    return { op, value: Number(number) / 100, relative: true, text: text.trim() };
  }
  if (hasBaseline) {
    return {
      message: `limit "${text}" is absolute, but this metric compares against its baseline`,
      hint: 'write the allowed difference from the baseline, e.g. "> +20%"',
    };
  }
  const factor = CONVERSIONS[suffix]?.[unit];
  if (factor === undefined) {
    const fits = Object.entries(CONVERSIONS)
      .filter(([, units]) => units[unit] !== undefined)
      .map(([s]) => (s === '' ? 'a plain number' : s));
    return {
      message: `"${suffix}" does not apply to a metric in ${unit}`,
      hint: `use ${fits.join(', ')}, or set this metric's unit`,
    };
  }
  return { op, value: Number(number) * factor, relative: false, text: text.trim() };
}

/** True when `value` breaches the limit. */
export function breaches(limit: Limit, value: number): boolean {
  switch (limit.op) {
    case '>':
      return value > limit.value;
    case '>=':
      return value >= limit.value;
    case '<':
      return value < limit.value;
    case '<=':
      return value <= limit.value;
  }
}

/** "up" for > and >=, "down" for < and <=. */
export function limitDirection(limit: Limit): 'up' | 'down' {
  return limit.op === '>' || limit.op === '>=' ? 'up' : 'down';
}
