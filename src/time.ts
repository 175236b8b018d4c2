/**
 * How human output shows a moment (issue 18): local time with its date and UTC offset by default,
 * UTC with --utc. JSON keeps ISO UTC and never comes through here. Built on Intl, so `TZ` and the
 * zone database decide the offset (daylight saving included), not hand-written arithmetic.
 */

/** A moment as epoch ms, an ISO string or a Date. */
export type Moment = number | string | Date;

interface ZonedParts {
  date: string;
  time: string;
  millis: string;
  /** `+05:30`, `-05:00`, or `+00:00`. */
  offset: string;
}

function zonedParts(at: Moment, utc: boolean): ZonedParts | undefined {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return undefined;
  // Made per call, not cached: the local zone is read when a format is made, and TZ may change.
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: utc ? 'UTC' : undefined,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'longOffset',
  });
  const part = Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
  // longOffset reads `GMT-05:00`, or a bare `GMT` at offset zero.
  const offset = (part.timeZoneName ?? 'GMT').replace(/^GMT/, '').replace('\u2212', '-') || '+00:00';
  return {
    date: `${part.year}-${part.month}-${part.day}`,
    time: `${part.hour}:${part.minute}:${part.second}`,
    millis: String(date.getUTCMilliseconds()).padStart(3, '0'),
    offset,
  };
}

/** `2025-03-01 04:00:00 -05:00` (local) or `2025-03-01 09:00:00 UTC` (utc): what people read. */
export function formatTime(at: Moment, utc = false): string {
  const p = zonedParts(at, utc);
  if (!p) return String(at);
  return `${p.date} ${p.time} ${utc ? 'UTC' : p.offset}`;
}

/**
 * ISO 8601 with the offset, for the start of a log line: `2025-03-01T04:00:00.000-05:00`, or
 * `…Z` in UTC (with --utc, or where local time is UTC), so CI logs stay sortable and parseable.
 */
export function formatLogTime(at: Moment, utc = false): string {
  const p = zonedParts(at, utc);
  if (!p) return String(at);
  return `${p.date}T${p.time}.${p.millis}${utc || p.offset === '+00:00' ? 'Z' : p.offset}`;
}
