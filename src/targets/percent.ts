/** Percentages as targets report them: parsing, comparing and the read-back check after a set. */
import { TargetError } from '../errors.js';
import { processSecrets } from '../plan/secrets.js';
import { toFiniteNumber } from '../sources/json-path.js';

/** Formats a percentage for messages: "25%". */
export function formatPercent(percent: number): string {
  return `${percent}%`;
}

/**
 * Reads a percentage a target reported: a finite number, or a numeric string that may end in "%"
 * (flag APIs and scripts often store "25" or print "25%"). Anything else is undefined.
 */
export function parsePercent(value: unknown): number | undefined {
  const number = toFiniteNumber(typeof value === 'string' ? value.trim().replace(/\s*%$/, '') : value);
  return number.ok ? number.value : undefined;
}

/** True when two percentages are the same, ignoring floating-point noise from JSON round trips. */
export function samePercent(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-9;
}

/**
 * The check after every set: the target must now report what was applied. A target that cannot
 * say (undefined) passes, since there is nothing to compare; a different value is a TargetError.
 */
export function checkReadBack(expected: number, actual: number | undefined, where: string): void {
  if (actual === undefined || samePercent(expected, actual)) return;
  throw new TargetError(
    processSecrets.redact(`read back ${formatPercent(actual)} from ${where}, expected ${formatPercent(expected)}`),
    'something else changed the value, or the target ignored the update; check the target by hand before going on',
  );
}
