/** Durations as written in plans: `500ms`, `30s`, `5m`, `48h`, `7d`, and compounds like `1h30m`. */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Matches a whole duration; shared with the JSON Schema so editors flag bad ones too. */
export const DURATION_PATTERN = '^\\s*(\\d+(\\.\\d+)?(ms|s|m|h|d)\\s*)+$';
const DURATION_RE = new RegExp(DURATION_PATTERN);
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** The longest duration a plan may give: a year (far beyond any bake; keeps time arithmetic sane). */
export const MAX_DURATION_MS = 365 * UNIT_MS.d;
/** The longest a single request or program may be given (timeouts): an hour. */
export const MAX_TIMEOUT_MS = UNIT_MS.h;

/** Parses a duration into ms, or returns undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART_RE)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return Math.round(total);
}

/** True for a duration of at most a year (or text that is no duration: the pattern says that). */
export function isWithinAYear(text: string): boolean {
  return (parseDuration(text) ?? 0) <= MAX_DURATION_MS;
}

/** True for a timeout above 0 and at most an hour (or text that is no duration: the pattern says that). */
export function isTimeoutLength(text: string): boolean {
  const ms = parseDuration(text) ?? 0;
  return ms > 0 && ms <= MAX_TIMEOUT_MS;
}

/**
 * The checks of durations no JSON Schema keyword expresses, as JSON Schema formats: the plan's
 * generated validator (plan-shape.generated.ts) checks them by these names.
 */
export const DURATION_FORMATS = {
  'rollout-duration': isWithinAYear,
  'rollout-timeout': isTimeoutLength,
} as const;

/** Formats ms compactly for people: `45s`, `12m`, `1h 30m`, `2d 4h`. */
export function formatDuration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

/** A duration the schema has already checked, in ms; `fallback` when there is none. */
export function durationMs(text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : (parseDuration(text) ?? fallback);
}
