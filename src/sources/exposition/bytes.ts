/**
 * Byte-level pieces of the text-format parser (lines.ts, parse.ts): character classes, scanning
 * quoted strings, label escapes, numbers and timestamps as Prometheus reads them, and comparing
 * bytes without decoding them.
 */
import { isUtf8 } from 'node:buffer';
import { parseSampleValue } from './float.js';

export const TAB = 9;
export const SPACE = 32;
export const QUOTE = 34;
export const HASH = 35;
export const COMMA = 44;
export const DOT = 46;
export const EQUALS = 61;
export const BACKSLASH = 92;
export const OPEN_BRACE = 123;
export const CLOSE_BRACE = 125;
export const LF = 10;

/**
 * A one-byte string the parser compares lines against, with its bytes: comparing bytes to bytes
 * is cheapest (a string used as a property key turns into an indirection V8 must follow).
 */
export interface Known {
  text: string;
  bytes: DataView;
}

export function toKnown(text: string): Known {
  return { text, bytes: viewOf(Buffer.from(text, 'latin1')) };
}

/**
 * How many of the `count` labels of a previous line (`previous`, from `previousStart` to
 * `previousEnd`, its labels ending at `labelEnds` from its start) the line in `view` from `start`
 * to `end` has, byte for byte from its start: those are the same labels, already read.
 */
export function commonLabels(view: DataView, start: number, end: number, previous: DataView, previousStart: number, previousEnd: number, labelEnds: readonly number[], count: number): number {
  if (count === 0) return 0;
  const limit = Math.min(end - start, previousEnd - previousStart, labelEnds[count - 1]!);
  let common = 0;
  while (common + 4 <= limit && view.getUint32(start + common) === previous.getUint32(previousStart + common)) common += 4;
  while (common < limit && view.getUint8(start + common) === previous.getUint8(previousStart + common)) common++;
  let same = 0;
  while (same < count && labelEnds[same]! <= common) same++;
  return same;
}

/** Whether `buf` holds the same `length` bytes at `a` and at `b`. */
export function sameBytes(buf: Buffer, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (buf[a + i] !== buf[b + i]) return false;
  return true;
}

export function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Whether `word` stands at `at`, not followed by a character of class `chars` (so not a longer word). */
export function isWordAt(view: DataView, at: number, end: number, word: DataView, chars: number): boolean {
  const after = at + word.byteLength;
  if (after > end || !equalsBytes(view, at, word)) return false;
  return after === end || !(CHAR_CLASS[view.getUint8(after)]! & chars);
}

/** Whether `bytes` stand at `at` (the caller checked the room); four at a time, the rest one by one. */
export function equalsBytes(view: DataView, at: number, bytes: DataView): boolean {
  const length = bytes.byteLength;
  let i = 0;
  for (; i + 4 <= length; i += 4) if (view.getUint32(at + i) !== bytes.getUint32(i)) return false;
  for (; i < length; i++) if (view.getUint8(at + i) !== bytes.getUint8(i)) return false;
  return true;
}

/** Whether `text`, all one-byte chars, is what `buf` holds from `start` to `end`. */
export function isTextAt(text: string, buf: Buffer, start: number, end: number): boolean {
  if (text.length !== end - start) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}

/** The index of the quote closing the string whose opening quote is at `at`; -1 if the line ends first. */
export function scanQuoted(buf: Buffer, at: number, end: number): number {
  for (at++; at < end; at++) {
    const ch = buf[at];
    if (ch === QUOTE) return at;
    if (ch === BACKSLASH) at++;
  }
  return -1;
}

export function isValidUtf8(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return isUtf8(buf.subarray(start, end));
  return true;
}

/**
 * A quoted string's text as Prometheus reads it: `\"`, `\\` and `\n` stand for a quote, a
 * backslash and a line end; any other backslash is taken as written, with what follows it.
 */
export function unescape(buf: Buffer, start: number, end: number): string {
  let value = '';
  let runStart = start;
  for (let at = start; at < end; at++) {
    if (buf[at] !== BACKSLASH) continue;
    const escaped = buf[at + 1];
    const replaced = escaped === BACKSLASH ? '\\' : escaped === QUOTE ? '"' : escaped === 110 /* n */ ? '\n' : undefined;
    if (replaced !== undefined) {
      value += buf.toString('utf8', runStart, at) + replaced;
      runStart = at + 2;
    }
    at++;
  }
  return value + buf.toString('utf8', runStart, end);
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * A sample value (float.ts). Plain decimals of up to 15 digits are computed in place: an exact
 * integer divided by an exact power of ten rounds correctly, and it spares decoding a string per
 * sample.
 */
export function parseValue(buf: Buffer, start: number, end: number): number | undefined {
  let at = start;
  let mantissa = 0;
  let digits = 0;
  let pointAt = -1;
  for (; at < end; at++) {
    const ch = buf[at]!;
    if (ch >= 48 && ch <= 57) {
      mantissa = mantissa * 10 + (ch - 48);
      digits++;
    } else if (ch === DOT && pointAt < 0) pointAt = digits;
    else break;
  }
  if (at === end && digits > 0 && digits <= 15) {
    return pointAt < 0 ? mantissa : mantissa / POWERS_OF_TEN[digits - pointAt]!;
  }
  return parseSampleValue(buf.toString('latin1', start, end));
}

/** The largest timestamp Prometheus reads (a Go int64), as digits. */
const MAX_TIMESTAMP = '9223372036854775807';

/** A timestamp ends the line: digits (no sign) that fit a Go int64, then only blanks. */
export function isTimestamp(buf: Buffer, at: number, end: number): boolean {
  const digits = at;
  while (at < end && isDigit(buf[at]!)) at++;
  if (at === digits || skipBlanks(buf, at, end) !== end) return false;
  const text = buf.toString('latin1', digits, at).replace(/^0+(?=.)/, '');
  return text.length < MAX_TIMESTAMP.length || (text.length === MAX_TIMESTAMP.length && text <= MAX_TIMESTAMP);
}

export function skipBlanks(buf: Buffer, at: number, end: number): number {
  while (at < end && (buf[at] === SPACE || buf[at] === TAB)) at++;
  return at;
}

/** Quotes what starts at `at`, for a problem's message. */
export function quote(buf: Buffer, at: number, end: number): string {
  return at >= end ? 'the end of the line' : JSON.stringify(buf.toString('utf8', at, Math.min(end, at + 20)));
}

export function isDigit(ch: number): boolean {
  return ch >= 48 && ch <= 57;
}

export const NAME_START = 1;
export const NAME_CHAR = 2;
export const LABEL_START = 4;
export const LABEL_CHAR = 8;

/** Character classes by byte, one lookup instead of a chain of comparisons per character. */
export const CHAR_CLASS = new Uint8Array(256);
for (let ch = 0; ch < 256; ch++) {
  const letter = (ch >= 97 && ch <= 122) || (ch >= 65 && ch <= 90) || ch === 95;
  const digit = isDigit(ch);
  const colon = ch === 58;
  CHAR_CLASS[ch] =
    (letter || colon ? NAME_START : 0) |
    (letter || digit || colon ? NAME_CHAR : 0) |
    (letter ? LABEL_START : 0) |
    (letter || digit ? LABEL_CHAR : 0);
}
