/**
 * A streaming parser of the Prometheus text exposition format 0.0.4. It is fed the page chunk by
 * chunk as it arrives and keeps only the series whose metric name the plan's expressions use.
 *
 * It reads bytes, not text: a line of an unwanted metric is skipped once its name is compared, so
 * it is never decoded, and a kept line is scanned once, byte by byte, its label names and values
 * turned into ids of the page's string table (series.ts), a string made only the first time its
 * bytes are seen. That is what makes it fast and small: the page itself is never held, only the
 * kept samples, in integer columns. A sample's own timestamp, if any, is ignored: scrapes are timed.
 */
import { keepClassWarm, LabelTable, Samples } from './series.js';

export { Samples, type Labels } from './series.js';

/** Kept samples by metric name. */
export type SeriesByName = Map<string, Samples>;

/** A line of the page the parser could not read. */
export interface ParseProblem {
  /** 1-based line number on the page. */
  line: number;
  message: string;
}

/** What a page yielded: the kept series, the number of lines, and the unreadable ones (first named). */
export interface ParsedPage {
  series: SeriesByName;
  lines: number;
  problems: number;
  firstProblem: ParseProblem | undefined;
}

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const EQUALS = 61;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/**
 * The longest unfinished line held while it waits for its end. A line of the format is a name,
 * labels and a number; one this long is not the format (a page of one endless line, say), and
 * holding it would grow and re-copy a buffer with every chunk, up to the page's size cap.
 */
const MAX_LINE_BYTES = 1024 * 1024;

/** Initial size of the hash table of ASCII label values' ids (a power of two, grown at half full). */
const VALUE_SLOTS = 1024;

/**
 * A one-byte string the parser compares lines against, with its bytes: comparing bytes to bytes
 * is cheapest (a string used as a property key turns into an indirection V8 must follow).
 */
interface Known {
  text: string;
  bytes: DataView;
}

function toKnown(text: string): Known {
  return { text, bytes: viewOf(Buffer.from(text, 'latin1')) };
}

/**
 * Parses a page fed in chunks. `wanted` names the metrics to keep (undefined keeps all); a line of
 * another metric is skipped once its name is compared.
 */
export class ExpositionParser {
  private readonly wanted: Known[] | undefined;
  private readonly table = new LabelTable();
  private readonly series: SeriesByName = new Map();
  /** The unfinished last line of what has arrived so far. */
  private pending: Buffer | undefined;
  /** Set while the rest of a line over MAX_LINE_BYTES is dropped, up to its end. */
  private skippingLine = false;
  /** The buffer being parsed, seen as a DataView to compare lines four bytes at a time. */
  private view = viewOf(Buffer.alloc(0));
  private lineNumber = 0;
  private problems = 0;
  private firstProblem: ParseProblem | undefined;
  /** The previous kept line's metric and its samples: a metric's lines come together on a page. */
  private lastName: Known = toKnown('');
  private lastSamples = new Samples(this.table);
  /**
   * The previous kept line (from its name on) and its labels' schema: where its bytes, compared
   * with the next line's, run unchanged past the end of a label's value, that label is the same
   * and is taken without being parsed. On a page, neighbouring lines differ mostly in their last
   * labels, and have the same label names.
   */
  private previousLine: DataView | undefined;
  private previousStart = 0;
  private previousEnd = 0;
  private previousLabelCount = 0;
  private previousSchema = -1;
  /**
   * By label position: the name (its bytes and its id), the value's id, and where the value's
   * closing quote ends (from the line's name).
   */
  private readonly labelNames: Known[] = [];
  private readonly labelNameIds: number[] = [];
  private readonly labelValueIds: number[] = [];
  private readonly labelEnds: number[] = [];
  /**
   * Ids of the ASCII label values seen, by a hash of their bytes (open addressing; -1 is empty):
   * a value's bytes are compared with its string, never decoded twice. Never evicting keeps ids
   * canonical: the same value has one id, which evaluation relies on.
   */
  private valueSlots = new Int32Array(VALUE_SLOTS).fill(-1);
  private valueHashes = new Int32Array(VALUE_SLOTS);
  private valueCount = 0;

  constructor(wanted?: Iterable<string>) {
    this.wanted = wanted ? [...new Set(wanted)].map(toKnown) : undefined;
  }

  /** Parses every line completed by `chunk`; a line cut by the chunk's end waits for the next. */
  push(chunk: string | Buffer): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let lineStart = 0;
    let lineEnd = bytes.indexOf(LF);
    if (this.skippingLine) {
      if (lineEnd < 0) return;
      this.skippingLine = false;
      lineStart = lineEnd + 1;
      lineEnd = bytes.indexOf(LF, lineStart);
    } else if (this.pending) {
      if (lineEnd < 0) {
        this.pending = Buffer.concat([this.pending, bytes]);
        this.dropIfTooLong();
        return;
      }
      const joined = Buffer.concat([this.pending, bytes.subarray(0, lineEnd)]);
      this.pending = undefined;
      this.view = viewOf(joined);
      this.parseLine(joined, 0, joined.length);
      lineStart = lineEnd + 1;
      lineEnd = bytes.indexOf(LF, lineStart);
    }
    this.view = viewOf(bytes);
    while (lineEnd >= 0) {
      this.parseLine(bytes, lineStart, lineEnd);
      lineStart = lineEnd + 1;
      lineEnd = bytes.indexOf(LF, lineStart);
    }
    // A copy, so the caller may reuse its buffer.
    if (lineStart < bytes.length) {
      this.pending = Buffer.from(bytes.subarray(lineStart));
      this.dropIfTooLong();
    }
  }

  /** Gives up an unfinished line over MAX_LINE_BYTES: a problem on its line, the rest skipped. */
  private dropIfTooLong(): void {
    if (this.pending === undefined || this.pending.length <= MAX_LINE_BYTES) return;
    this.pending = undefined;
    this.skippingLine = true;
    this.lineNumber++;
    this.problem(`a line longer than ${MAX_LINE_BYTES} bytes`);
  }

  /** Parses the last line (a page need not end with a line end) and returns what was kept. */
  end(): ParsedPage {
    const rest = this.pending;
    this.pending = undefined;
    if (rest) {
      this.view = viewOf(rest);
      this.parseLine(rest, 0, rest.length);
    }
    this.previousLine = undefined;
    for (const samples of this.series.values()) samples.seal();
    return { series: this.series, lines: this.lineNumber, problems: this.problems, firstProblem: this.firstProblem };
  }

  /** One line, read in place with a local index: this loop is the parser's whole cost. */
  private parseLine(buf: Buffer, start: number, end: number): void {
    this.lineNumber++;
    if (end > start && buf[end - 1] === CR) end--;
    const nameStart = skipBlanks(buf, start, end);
    if (nameStart === end || buf[nameStart] === HASH) return; // blank line, HELP, TYPE or comment
    const name = this.keptName(buf, nameStart, end);
    if (name === undefined) return;
    if (name === null) return this.problem(`expected a metric name, found ${quote(buf, nameStart, end)}`);
    const same = name === this.lastName ? this.sameLabelsAsPrevious(nameStart + name.bytes.byteLength, nameStart, end) : 0;
    let at: number;
    if (same > 0) {
      at = this.parseLabels(buf, nameStart, nameStart + this.labelEnds[same - 1]!, end, same);
    } else {
      at = skipBlanks(buf, nameStart + name.bytes.byteLength, end);
      if (at < end && buf[at] === OPEN_BRACE) at = this.parseLabels(buf, nameStart, at + 1, end, 0);
      else this.previousLabelCount = 0;
    }
    if (at < 0) return;
    at = skipBlanks(buf, at, end);
    const valueStart = at;
    while (at < end && buf[at] !== SPACE && buf[at] !== TAB) at++;
    if (at === valueStart) return this.problem(`expected a value after ${name.text}, found the end of the line`);
    const value = parseValue(buf, valueStart, at);
    if (value === undefined) return this.problem(`${quote(buf, valueStart, at)} is not a number`);
    at = skipBlanks(buf, at, end);
    if (at < end && !isTimestamp(buf, at, end)) {
      return this.problem(`expected a timestamp or the line's end, found ${quote(buf, at, end)}`);
    }
    const schema = this.schemaOfLine();
    this.previousLine = this.view;
    this.previousStart = nameStart;
    this.previousEnd = end;
    this.previousSchema = schema;
    if (name !== this.lastName) {
      this.lastName = name;
      this.lastSamples = this.series.get(name.text) ?? new Samples(this.table);
      this.series.set(name.text, this.lastSamples);
    }
    this.lastSamples.push(schema, this.labelValueIds, value);
  }

  /** The schema of the line's label names: the previous line's when they are the same, as they mostly are. */
  private schemaOfLine(): number {
    const count = this.previousLabelCount;
    const previous = this.previousSchema;
    if (previous >= 0 && this.table.schemaIs(previous, this.labelNameIds, count)) return previous;
    return this.table.schema(this.labelNameIds, count);
  }

  /**
   * The line's metric name if it is kept (a wanted one as given, so no string is made for it),
   * undefined if it is not, null if the line does not start with a name at all.
   */
  private keptName(buf: Buffer, at: number, end: number): Known | undefined | null {
    if (!(CHAR_CLASS[buf[at]!]! & NAME_START)) return null;
    if (isWordAt(this.view, at, end, this.lastName.bytes, NAME_CHAR)) return this.lastName;
    if (this.wanted) {
      for (const name of this.wanted) if (isWordAt(this.view, at, end, name.bytes, NAME_CHAR)) return name;
      return undefined;
    }
    let nameEnd = at + 1;
    while (nameEnd < end && CHAR_CLASS[buf[nameEnd]!]! & NAME_CHAR) nameEnd++;
    return toKnown(buf.toString('latin1', at, nameEnd));
  }

  /**
   * How many leading labels this line shares, byte for byte, with the previous kept line, whose
   * metric it has: the comparison starts at `at`, past the name.
   */
  private sameLabelsAsPrevious(at: number, nameStart: number, end: number): number {
    const previous = this.previousLine;
    const count = this.previousLabelCount;
    if (previous === undefined || count === 0) return 0;
    const from = this.previousStart;
    const limit = Math.min(end - nameStart, this.previousEnd - from, this.labelEnds[count - 1]!);
    const view = this.view;
    let common = at - nameStart;
    while (common + 4 <= limit && view.getUint32(nameStart + common) === previous.getUint32(from + common)) common += 4;
    while (common < limit && view.getUint8(nameStart + common) === previous.getUint8(from + common)) common++;
    let same = 0;
    while (same < count && this.labelEnds[same]! <= common) same++;
    return same;
  }

  /**
   * Reads labels into the by-position arrays up to the closing brace, from label `index` on (those
   * before it are the previous line's): `at` is just past the opening brace, or past the previous
   * label's closing quote. Returns the index past the brace, or -1 on a problem.
   */
  private parseLabels(buf: Buffer, nameStart: number, at: number, end: number, index: number): number {
    for (; ; index++) {
      if (index > 0) {
        at = skipBlanks(buf, at, end);
        if (at < end && buf[at] === COMMA) at++;
        else if (at >= end || buf[at] !== CLOSE_BRACE) {
          this.problem(`expected "," or "}" after the value of ${this.labelNames[index - 1]!.text}, found ${quote(buf, at, end)}`);
          return -1;
        }
      }
      at = skipBlanks(buf, at, end);
      if (at < end && buf[at] === CLOSE_BRACE) {
        this.previousLabelCount = index;
        return at + 1;
      }
      const name = this.labelName(buf, at, end, index);
      if (name === undefined) return -1;
      at = skipBlanks(buf, at + name.length, end);
      if (at >= end || buf[at] !== EQUALS) {
        this.problem(`expected "=" after ${name}, found ${quote(buf, at, end)}`);
        return -1;
      }
      at = skipBlanks(buf, at + 1, end);
      if (at >= end || buf[at] !== QUOTE) {
        this.problem(`expected a quoted value for ${name}, found ${quote(buf, at, end)}`);
        return -1;
      }
      at = this.labelValue(buf, at + 1, end, index);
      if (at < 0) return -1;
      this.labelEnds[index] = at - nameStart;
    }
  }

  /** The label name at `at`, as the previous line's string for this position when the bytes match. */
  private labelName(buf: Buffer, at: number, end: number, index: number): string | undefined {
    const known = this.labelNames[index];
    if (known !== undefined && isWordAt(this.view, at, end, known.bytes, LABEL_CHAR)) return known.text;
    let nameEnd = at;
    if (nameEnd < end && CHAR_CLASS[buf[nameEnd]!]! & LABEL_START) nameEnd++;
    while (nameEnd < end && CHAR_CLASS[buf[nameEnd]!]! & LABEL_CHAR) nameEnd++;
    if (nameEnd === at) {
      this.problem(`expected a label name, found ${quote(buf, at, end)}`);
      return undefined;
    }
    const name = buf.toString('latin1', at, nameEnd);
    // Prometheus reserves "__" names; refusing them also keeps "__proto__" off the labels object.
    if (name.startsWith('__')) {
      this.problem(`label name ${name} is reserved`);
      return undefined;
    }
    this.labelNames[index] = toKnown(name);
    this.labelNameIds[index] = this.table.intern(name);
    return name;
  }

  /**
   * Reads the label value after the opening quote at `start` into `labelValueIds[index]`; returns
   * the index past its closing quote, or -1.
   */
  private labelValue(buf: Buffer, start: number, end: number, index: number): number {
    let at = start;
    let hash = 0;
    let high = 0;
    let ch = 0;
    while (at < end && (ch = buf[at]!) !== QUOTE && ch !== BACKSLASH) {
      hash = (Math.imul(hash, 31) + ch) | 0;
      high |= ch;
      at++;
    }
    if (at >= end || ch === BACKSLASH) {
      const escaped = ch === BACKSLASH ? unescapeLabelValue(buf, start, end) : undefined;
      if (escaped === undefined) {
        this.problem(`the value of ${this.labelNames[index]!.text} has a bad escape or no closing quote`);
        return -1;
      }
      this.labelValueIds[index] = this.table.intern(escaped.value);
      return escaped.end;
    }
    // Non-ASCII bytes are decoded each time: the hash table compares bytes with one-byte chars.
    this.labelValueIds[index] = high >= 0x80 ? this.table.intern(buf.toString('utf8', start, at)) : this.asciiValueId(buf, start, at, hash);
    return at + 1;
  }

  /** The id of the ASCII value in `buf` from `start` to `end`, whose bytes hash to `hash`. */
  private asciiValueId(buf: Buffer, start: number, end: number, hash: number): number {
    const strings = this.table.strings;
    const mask = this.valueSlots.length - 1;
    let slot = hash & mask;
    for (let id = this.valueSlots[slot]!; id >= 0; id = this.valueSlots[slot]!) {
      if (this.valueHashes[slot] === hash && isTextAt(strings[id]!, buf, start, end)) return id;
      slot = (slot + 1) & mask;
    }
    // Interned through the table, which may have the string already (as a label name, say).
    const id = this.table.intern(buf.toString('latin1', start, end));
    this.valueSlots[slot] = id;
    this.valueHashes[slot] = hash;
    if (++this.valueCount * 2 > this.valueSlots.length) this.growValueSlots();
    return id;
  }

  private growValueSlots(): void {
    const slots = this.valueSlots;
    const hashes = this.valueHashes;
    this.valueSlots = new Int32Array(slots.length * 2).fill(-1);
    this.valueHashes = new Int32Array(slots.length * 2);
    const mask = this.valueSlots.length - 1;
    for (let old = 0; old < slots.length; old++) {
      if (slots[old]! < 0) continue;
      let slot = hashes[old]! & mask;
      while (this.valueSlots[slot]! >= 0) slot = (slot + 1) & mask;
      this.valueSlots[slot] = slots[old]!;
      this.valueHashes[slot] = hashes[old]!;
    }
  }

  private problem(message: string): void {
    // The line may have overwritten the labels kept by position: it is no model for the next.
    this.previousLabelCount = 0;
    this.previousSchema = -1;
    this.problems++;
    this.firstProblem ??= { line: this.lineNumber, message };
  }
}

keepClassWarm(new ExpositionParser());

/** Parses a whole page at once (tests, benchmarks): the same as one `push` and `end`. */
export function parseExposition(page: string | Buffer, wanted?: Iterable<string>): ParsedPage {
  const parser = new ExpositionParser(wanted);
  parser.push(page);
  return parser.end();
}

function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Whether `word` stands at `at`, not followed by a character of class `chars` (so not a longer word). */
function isWordAt(view: DataView, at: number, end: number, word: DataView, chars: number): boolean {
  const after = at + word.byteLength;
  if (after > end || !equalsBytes(view, at, word)) return false;
  return after === end || !(CHAR_CLASS[view.getUint8(after)]! & chars);
}

/** Whether `bytes` stand at `at` (the caller checked the room); four at a time, the rest one by one. */
function equalsBytes(view: DataView, at: number, bytes: DataView): boolean {
  const length = bytes.byteLength;
  let i = 0;
  for (; i + 4 <= length; i += 4) if (view.getUint32(at + i) !== bytes.getUint32(i)) return false;
  for (; i < length; i++) if (view.getUint8(at + i) !== bytes.getUint8(i)) return false;
  return true;
}

/** Whether `text`, all one-byte chars, is what `buf` holds from `start` to `end`. */
function isTextAt(text: string, buf: Buffer, start: number, end: number): boolean {
  if (text.length !== end - start) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}

/** The rare path: a label value with escapes, from after its opening quote; undefined if invalid. */
function unescapeLabelValue(buf: Buffer, at: number, end: number): { value: string; end: number } | undefined {
  let value = '';
  let runStart = at;
  while (at < end) {
    const ch = buf[at];
    if (ch === QUOTE) return { value: value + buf.toString('utf8', runStart, at), end: at + 1 };
    if (ch !== BACKSLASH) {
      at++;
      continue;
    }
    value += buf.toString('utf8', runStart, at);
    const escaped = buf[at + 1];
    if (escaped === BACKSLASH) value += '\\';
    else if (escaped === QUOTE) value += '"';
    else if (escaped === 110 /* n */) value += '\n';
    else return undefined;
    at += 2;
    runStart = at;
  }
  return undefined;
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * Go's ParseFloat, which the format uses: NaN and ±Inf in any case, decimal and exponent forms.
 * Plain decimals of up to 15 digits are computed in place: an exact integer divided by an exact
 * power of ten rounds correctly, and it spares decoding a string per sample.
 */
function parseValue(buf: Buffer, start: number, end: number): number | undefined {
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
  const token = buf.toString('latin1', start, end);
  const n = Number(token);
  if (!Number.isNaN(n)) return n;
  switch (token.toLowerCase()) {
    case 'nan':
      return NaN;
    case '+inf':
    case 'inf':
    case '+infinity':
    case 'infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
    default:
      return undefined;
  }
}

/** An optional millisecond timestamp ends the line; it is not used (scrapes are timed). */
function isTimestamp(buf: Buffer, at: number, end: number): boolean {
  if (buf[at] === MINUS) at++;
  const digits = at;
  while (at < end && isDigit(buf[at]!)) at++;
  return at > digits && skipBlanks(buf, at, end) === end;
}

function skipBlanks(buf: Buffer, at: number, end: number): number {
  while (at < end && (buf[at] === SPACE || buf[at] === TAB)) at++;
  return at;
}

/** Quotes what starts at `at`, for a problem's message. */
function quote(buf: Buffer, at: number, end: number): string {
  return at >= end ? 'the end of the line' : JSON.stringify(buf.toString('utf8', at, Math.min(end, at + 20)));
}

function isDigit(ch: number): boolean {
  return ch >= 48 && ch <= 57;
}

const NAME_START = 1;
const NAME_CHAR = 2;
const LABEL_START = 4;
const LABEL_CHAR = 8;

/** Character classes by byte, one lookup instead of a chain of comparisons per character. */
const CHAR_CLASS = new Uint8Array(256);
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
