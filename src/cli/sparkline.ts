/** A small trend of recent values: ▁▂▃▄▅▆▇█, scaled between the series' own min and max. */
const BARS = '▁▂▃▄▅▆▇█';

/** Renders `values` (nulls as a gap) as a sparkline; empty for no values. */
export function sparkline(values: (number | null)[]): string {
  const numbers = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (numbers.length === 0) return '';
  const min = Math.min(...numbers);
  const span = Math.max(...numbers) - min;
  return values
    .map((v) => {
      if (v === null || !Number.isFinite(v)) return ' ';
      const level = span === 0 ? 0 : Math.round(((v - min) / span) * (BARS.length - 1));
      return BARS[level];
    })
    .join('');
}
