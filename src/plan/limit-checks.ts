/**
 * The plan-time rules for a metric's limits, one copy shared by the plan loader and `rollout init`:
 * each limit parses in the metric's unit, lies where a reading of that unit can be (an error: it
 * could never fire, or would fire on every poll), looks plausible for the unit (a warning), and
 * critical is at least as strict as warning. Where a number looks written in the neighbouring
 * unit (5 for a ratio meant as 5 %, 500 seconds meant as ms), the hint says which number was meant.
 */
import { formatValue } from '../analysis/format.js';
import { limitDirection, parseLimit, type LimitProblem } from '../analysis/limits.js';
import type { Limit, MetricUnit } from './types.js';

/** Something wrong or odd about one of a metric's limits. */
export interface LimitFinding extends LimitProblem {
  field: 'warning' | 'critical';
  /** An error makes the plan invalid; a warning is printed and the plan still loads. */
  severity: 'error' | 'warning';
}

/** The limits of one metric, parsed, and what is wrong with them. */
export interface CheckedLimits {
  warning?: Limit;
  critical?: Limit;
  findings: LimitFinding[];
}

/** The highest reading of each unit (readings below 0 are no data, for every unit). */
const MAX_READING: Record<MetricUnit, number> = { ratio: 1, percent: 100, seconds: Infinity, milliseconds: Infinity, count: Infinity };

/** The unit a number of this unit is often written in by mistake, and how many of it make one of this. */
const NEIGHBOUR: Partial<Record<MetricUnit, { unit: MetricUnit; factor: number }>> = {
  ratio: { unit: 'percent', factor: 100 },
  percent: { unit: 'ratio', factor: 1 / 100 },
  seconds: { unit: 'milliseconds', factor: 1000 },
  milliseconds: { unit: 'seconds', factor: 1 / 1000 },
};

/** Checks a metric's `warning` and `critical` texts (either may be absent) for a metric of `unit`. */
export function checkLimits(texts: { warning?: string; critical?: string }, unit: MetricUnit, hasBaseline: boolean): CheckedLimits {
  const findings: LimitFinding[] = [];
  const parse = (field: LimitFinding['field']): Limit | undefined => {
    const text = texts[field];
    if (text === undefined) return undefined;
    const parsed = parseLimit(text, unit, hasBaseline);
    if ('message' in parsed) {
      findings.push({ field, severity: 'error', ...parsed });
      return undefined;
    }
    const finding = parsed.relative ? undefined : checkRange(parsed, unit);
    if (finding) findings.push({ field, ...finding });
    return finding?.severity === 'error' ? undefined : parsed;
  };
  const warning = parse('warning');
  const critical = parse('critical');
  if (warning && critical) {
    const pair = checkLimitPair(warning, critical, unit);
    if (pair) findings.push({ severity: 'error', ...pair });
  }
  return { warning, critical, findings };
}

/** A number as a plan would write it: 0.05, not 0.05000000000000000277. */
function plain(value: number): string {
  return String(Number(value.toPrecision(12)));
}

/** The limit with another number, as the plan would write it. */
function rewritten(limit: Limit, value: number): string {
  return `"${limit.op} ${plain(value)}"`;
}

/** The reading of a neighbouring unit the number would be, when it fits there: 5 (ratio) → 5 %. */
function asNeighbour(value: number, unit: MetricUnit): { value: number; shown: string } | undefined {
  const neighbour = NEIGHBOUR[unit];
  if (!neighbour) return undefined;
  const meant = value / neighbour.factor;
  if (meant < 0 || meant > MAX_READING[unit] || implausible(meant, unit)) return undefined;
  return { value: meant, shown: formatValue(value, neighbour.unit) };
}

/** A reading of the unit that is possible but rarely meant: latencies of minutes written in seconds, or under a millisecond. */
function implausible(value: number, unit: MetricUnit): boolean {
  return (unit === 'seconds' && value >= 100) || (unit === 'milliseconds' && value < 1);
}

/** Whether the limit's number was written with a unit of time of its own ("2m", "1h"), which is no slip of the unit. */
function explicitLongUnit(limit: Limit): boolean {
  return /(?:\d|\s)(m|h)\s*$/.test(limit.text);
}

function checkRange(limit: Limit, unit: MetricUnit): Omit<LimitFinding, 'field'> | undefined {
  const max = MAX_READING[unit];
  const up = limitDirection(limit) === 'up';
  const quoted = `"${limit.text}"`;
  if (limit.value < 0) {
    return {
      severity: 'error',
      message: `limit ${quoted} is below 0, and a metric in ${unit} never reads below 0: it ${up ? 'fires on every reading' : 'can never fire'}`,
      hint: `write a limit of 0 or more; a change from a baseline such as "< -10%" needs \`baseline:\``,
    };
  }
  if (limit.value > max) {
    // "> 150%" was written as a percentage on purpose: no other unit was meant, it is just too high.
    const meant = /%\s*$/.test(limit.text) ? undefined : asNeighbour(limit.value, unit);
    const range = unit === 'ratio' ? '0 to 1, where 1 is 100 %' : '0 to 100';
    return {
      severity: 'error',
      message: `limit ${quoted} is above ${max}, the most a metric in ${unit} reads (${range}): it ${up ? 'can never fire' : 'fires on every reading'}`,
      hint: meant
        ? `did you mean ${rewritten(limit, meant.value)} (${meant.shown})?${unit === 'ratio' ? ` "${limit.op} ${plain(limit.value)}%" says the same` : ''}`
        : `write a number from ${range}${unit === 'ratio' ? ', or a percentage such as "> 5%"' : ''}`,
    };
  }
  if (implausible(limit.value, unit) && !explicitLongUnit(limit)) {
    const meant = asNeighbour(limit.value, unit);
    return {
      severity: 'warning',
      message: `limit ${quoted} is ${formatValue(limit.value, unit)}, unlikely for a metric in ${unit}`,
      hint: `${meant ? `did you mean ${rewritten(limit, meant.value)} (${meant.shown})? ` : ''}check the metric's unit (it reads ${unit})`,
    };
  }
  // In range, but at the very edge: a limit no reading can pass, or one every reading passes.
  const never = (limit.op === '>' && limit.value === max) || (limit.op === '<' && limit.value === 0);
  const always = (limit.op === '>=' && limit.value === 0) || (limit.op === '<=' && limit.value === max);
  if (never || always) {
    return {
      severity: 'warning',
      message: `limit ${quoted} ${never ? 'can never fire' : 'fires on every reading'}: a metric in ${unit} reads 0 to ${max}`,
      hint: never ? `use ${limit.op}= to fire at exactly ${plain(limit.value)}, or a number inside the range` : 'use a number inside the range',
    };
  }
  return undefined;
}

/**
 * Warning and critical limits of real plans lie within a factor of a few of each other (1 %/5 %,
 * 5 s/10 s, 300 ms/1 s). Two limits in the wrong order that land this close once one is read in the
 * neighbouring unit were written in mixed units; further apart, the values were swapped.
 */
const MIXED_UNITS_MAX_SPREAD = 10;

/**
 * Checks that a warning and a critical limit point the same way and that critical is the stricter
 * (reached later, or at the same point). When the two only disagree because one was written in
 * the neighbouring unit (percent 2 and 0.05), the hint names the number meant instead of a swap.
 */
export function checkLimitPair(warning: Limit, critical: Limit, unit: MetricUnit): Omit<LimitFinding, 'severity'> | undefined {
  if (limitDirection(warning) !== limitDirection(critical)) {
    return {
      field: 'critical',
      message: `warning "${warning.text}" and critical "${critical.text}" point different ways`,
      hint: 'both should use > (higher is worse) or both < (lower is worse)',
    };
  }
  const up = limitDirection(critical) === 'up';
  const inOrder = (w: number, c: number) => (up ? c >= w : c <= w);
  if (inOrder(warning.value, critical.value)) return undefined;
  const message = `critical "${critical.text}" is less strict than warning "${warning.text}"`;
  if (!warning.relative && !critical.relative) {
    for (const [field, limit, other] of [['warning', warning, critical], ['critical', critical, warning]] as const) {
      const meant = asNeighbour(limit.value, unit);
      if (!meant) continue;
      const pair = field === 'warning' ? [meant.value, other.value] : [other.value, meant.value];
      const spread = Math.max(meant.value, other.value) / Math.min(meant.value, other.value);
      if (!inOrder(pair[0]!, pair[1]!) || !(spread <= MIXED_UNITS_MAX_SPREAD)) continue;
      return {
        field,
        message,
        hint: `the units look mixed up, not the values: ${field} "${limit.text}" is ${formatValue(limit.value, unit)}; did you mean ${rewritten(limit, meant.value)} (${meant.shown})?`,
      };
    }
  }
  return { field: 'critical', message, hint: 'critical is the worse condition: swap the two values' };
}
