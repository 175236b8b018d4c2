/** Values and limits for people: in the metric's unit, compact. */
import type { MetricUnit } from '../plan/types.js';

const trim = (n: number, digits: number): string => {
  const fixed = n.toFixed(digits);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
};

/** Formats a value of `unit`: 0.0123 ratio → "1.23%", 1.5 seconds → "1.5s", 850 ms → "850ms". */
export function formatValue(value: number, unit: MetricUnit): string {
  switch (unit) {
    case 'ratio':
      return `${trim(value * 100, 2)}%`;
    case 'percent':
      return `${trim(value, 2)}%`;
    case 'seconds':
      return value < 1 ? `${trim(value * 1000, 0)}ms` : `${trim(value, 2)}s`;
    case 'milliseconds':
      return value >= 1000 ? `${trim(value / 1000, 2)}s` : `${trim(value, 1)}ms`;
    case 'count':
      return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : trim(value, 3);
  }
}

/** Formats a relative difference: 0.235 → "+23.5%". */
export function formatRelative(fraction: number): string {
  const percent = fraction * 100;
  return `${percent >= 0 ? '+' : ''}${trim(percent, 1)}%`;
}

/**
 * Recorded readings in words, each in its metric's unit: "error_rate 14.96%, p95 850ms". A metric
 * the plan no longer has reads as a count; null reads as "no data".
 */
export function formatReadings(metrics: Record<string, number | null>, units: ReadonlyMap<string, MetricUnit>): string {
  return Object.entries(metrics)
    .map(([name, value]) => `${name} ${value === null ? 'no data' : formatValue(value, units.get(name) ?? 'count')}`)
    .join(', ');
}
