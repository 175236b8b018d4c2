/**
 * A streaming parser of the Prometheus text exposition format 0.0.4. It is fed the page chunk by
 * chunk as it arrives, keeps only the series whose metric name the plan's expressions use, and
 * checks every line as Prometheus's scrape does (docs/exposition.md lists the rules and how they
 * were checked): a page Prometheus would refuse is a page with problems, whatever line they are on.
 *
 * It reads bytes, not text: a line of an unwanted metric is checked but never decoded, and a kept
 * line is scanned once, byte by byte, its label names and values turned into ids of the page's
 * string table (series.ts), a string made only the first time its bytes are seen. That is what
 * makes it fast and small: the page itself is never held, only the kept samples, in integer
 * columns. A sample's own timestamp, if any, is checked and ignored: scrapes are timed.
 */
import { isUtf8 } from 'node:buffer';
import { parseSampleValue } from './float.js';
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
  /** Set when the wanted metrics had more series than the parser keeps: `series` is then incomplete. */
  overflow: boolean;
}

const TAB = 9;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const DOT = 46;
const EQUALS = 61;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const LF = 10;

/**
 * The longest unfinished line held while it waits for its end. A line of the format is a name,
 * labels and a number; one this long is not the format (a page of one endless line, say), and
 * holding it would grow and re-copy a buffer with every chunk, up to the page's size cap.
 */
const MAX_LINE_BYTES = 1024 * 1024;

/** Initial size of the hash table of ASCII label values' ids (a power of two, grown at half full). */
const VALUE_SLOTS = 1024;

/** The metric types a TYPE line may name (Prometheus refuses the scrape for any other). */
const METRIC_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

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
 * Parses a page fed in chunks. `wanted` names the metrics to keep (undefined keeps all); the lines
 * of other metrics are checked and dropped. At most `maxSeries` series are kept; past that the
 * page's result says `overflow`.
 */
export class ExpositionParser {
  private readonly wanted: Known[] | undefined;
  private readonly wantedTexts: Set<string> | undefined;
  private readonly table = new LabelTable();
  private readonly series: SeriesByName = new Map();
  private readonly maxSeries: number;
  private keptSeries = 0;
  private overflow = false;
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
   * closing quote ends (from the line's name). A line that is not kept records where each name
   * starts and ends instead, to find a name written twice.
   */
  private readonly labelNames: Known[] = [];
  private readonly labelNameIds: number[] = [];
  private readonly labelValueIds: number[] = [];
  private readonly labelEnds: number[] = [];
  /**
   * The last line checked but not kept, read against the next one as kept lines are: by label, where
   * its name starts and ends, a digest of the name's shape, whether its value is empty, and where
   * it ends (all from the line's start).
   */
  private readonly checked = {
    line: undefined as DataView | undefined,
    start: 0,
    end: 0,
    count: 0,
    nameStarts: [] as number[],
    nameEnds: [] as number[],
    shapes: [] as number[],
    emptyValues: [] as number[],
    labelEnds: [] as number[],
  };
  /** The metric name a `{"name", ...}` line gives inside its braces, once read. */
  private quotedName: string | undefined;
  /**
   * Ids of the ASCII label values seen, by a hash of their bytes (open addressing; -1 is empty):
   * a value's bytes are compared with its string, never decoded twice. Never evicting keeps ids
   * canonical: the same value has one id, which evaluation relies on.
   */
  private valueSlots = new Int32Array(VALUE_SLOTS).fill(-1);
  private valueHashes = new Int32Array(VALUE_SLOTS);
  private valueCount = 0;

  constructor(wanted?: Iterable<string>, maxSeries = Infinity) {
    this.wantedTexts = wanted ? new Set(wanted) : undefined;
    this.wanted = this.wantedTexts ? [...this.wantedTexts].map(toKnown) : undefined;
    this.maxSeries = maxSeries;
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

  /**
   * Parses the last line (Prometheus reads a page without a final line end) and returns what was
   * kept, each metric's series once: of a series written twice, the first line counts, as in
   * Prometheus.
   */
  end(): ParsedPage {
    const rest = this.pending;
    this.pending = undefined;
    if (rest) {
      this.view = viewOf(rest);
      this.parseLine(rest, 0, rest.length);
    }
    this.previousLine = undefined;
    for (const samples of this.series.values()) samples.seal({ firstOfEachSeries: true });
    return { series: this.series, lines: this.lineNumber, problems: this.problems, firstProblem: this.firstProblem, overflow: this.overflow };
  }

  /** One line, read in place with a local index: this is the parser's whole cost. */
  private parseLine(buf: Buffer, start: number, end: number): void {
    this.lineNumber++;
    const first = skipBlanks(buf, start, end);
    if (first === end) return; // blank line
    const ch = buf[first]!;
    if (ch === HASH) return this.parseComment(buf, first + 1, end);
    if (ch === OPEN_BRACE) return this.parseQuotedNameLine(buf, first, end);
    if (!(CHAR_CLASS[ch]! & NAME_START)) return this.problem(`expected a metric name, found ${quote(buf, first, end)}`);
    // Prometheus would read the blanks as part of the name, and refuse it.
    if (first > start) return this.problem('blanks before the metric name');
    const name = this.keptName(buf, first, end);
    if (name === undefined) return this.checkLine(buf, first, end);
    const same = name === this.lastName ? this.sameLabelsAsPrevious(first, end) : 0;
    let at: number;
    if (same > 0) {
      at = this.parseLabels(buf, first, first + this.labelEnds[same - 1]!, end, same);
    } else {
      at = skipBlanks(buf, first + name.bytes.byteLength, end);
      if (at < end && buf[at] === OPEN_BRACE) at = this.parseLabels(buf, first, at + 1, end, 0);
      else this.previousLabelCount = 0;
    }
    if (at < 0) return;
    const value = this.sampleValue(buf, at, end);
    if (value === undefined) return;
    const schema = this.schemaOfLine();
    this.previousLine = this.view;
    this.previousStart = first;
    this.previousEnd = end;
    this.previousSchema = schema;
    this.keep(name, schema, value);
  }

  /**
   * Adds the line's sample to its metric's series (with `store` false, only checks it). A label
   * name with an empty value is dropped, every label of that name, as Prometheus does; a name
   * left twice is a problem.
   */
  private keep(name: Known, schema: number, value: number, store = true): void {
    let ids: readonly number[] = this.labelValueIds;
    if (hasEmpty(ids, this.previousLabelCount)) {
      const names = this.labelNameIds.slice(0, this.previousLabelCount);
      const dropped = new Set(names.filter((_, i) => ids[i] === LabelTable.EMPTY));
      const kept = names.map((_, i) => i).filter((i) => !dropped.has(names[i]!));
      schema = this.table.schema(kept.map((i) => names[i]!), kept.length);
      ids = kept.map((i) => ids[i]!);
    }
    if (!this.table.uniqueNames[schema]) return this.problem(`${name.text} has a label name twice`);
    if (!store) return;
    if (this.keptSeries >= this.maxSeries) {
      this.overflow = true;
      return;
    }
    this.keptSeries++;
    if (name !== this.lastName) {
      this.lastName = name;
      this.lastSamples = this.series.get(name.text) ?? new Samples(this.table);
      this.series.set(name.text, this.lastSamples);
    }
    this.lastSamples.push(schema, ids, value);
  }

  /**
   * A `{"name", label="value"} 1` line (Prometheus 3's form for names that need quoting). Rare,
   * so it is always read in full, then kept if its name is wanted.
   */
  private parseQuotedNameLine(buf: Buffer, at: number, end: number): void {
    this.quotedName = undefined;
    at = this.parseLabels(buf, at, at + 1, end, 0, true);
    if (at < 0) return;
    const text = this.quotedName as string | undefined;
    if (text === undefined) return this.problem('no metric name inside the braces');
    const value = this.sampleValue(buf, at, end);
    if (value === undefined) return;
    const schema = this.table.schema(this.labelNameIds, this.previousLabelCount);
    const known = this.lastName.text === text ? this.lastName : (this.wanted?.find((name) => name.text === text) ?? toKnown(text));
    this.keep(known, schema, value, !this.wantedTexts || this.wantedTexts.has(text));
    // The next line is not read against this one: its name is not where a bare name is.
    this.previousLabelCount = 0;
    this.previousSchema = -1;
  }

  /** Checks a line of a metric that is not kept, as strictly as a kept one, making no strings. */
  private checkLine(buf: Buffer, lineStart: number, end: number): void {
    const checked = this.checked;
    let nameEnd = lineStart + 1;
    while (nameEnd < end && CHAR_CLASS[buf[nameEnd]!]! & NAME_CHAR) nameEnd++;
    let at = skipBlanks(buf, nameEnd, end);
    let count = 0;
    if (at < end && buf[at] === OPEN_BRACE) {
      // Labels the previous checked line had, byte for byte, are checked already.
      const same = checked.line ? commonLabels(this.view, lineStart, end, checked.line, checked.start, checked.end, checked.labelEnds, checked.count) : 0;
      checked.line = undefined;
      count = this.checkLabels(buf, lineStart, same > 0 ? lineStart + checked.labelEnds[same - 1]! : at + 1, end, same);
      if (count < 0) return;
      at = lineStart + checked.labelEnds[count]!;
    }
    checked.line = this.view;
    checked.start = lineStart;
    checked.end = end;
    checked.count = count;
    this.sampleValue(buf, at, end);
  }

  /**
   * Checks labels up to the closing brace, from label `index` on at `at` (just past the opening
   * brace, or past the closing quote of the label before), recording where each name is, relative
   * to the line, to find one written twice. Returns the number of labels, and where the closing
   * brace ends as `checked.labelEnds[count]`; -1 on a problem.
   */
  private checkLabels(buf: Buffer, lineStart: number, at: number, end: number, index: number): number {
    const checked = this.checked;
    for (; ; index++) {
      at = skipBlanks(buf, at, end);
      if (index > 0 && at < end && buf[at] === COMMA) at = skipBlanks(buf, at + 1, end);
      if (at < end && buf[at] === CLOSE_BRACE) break;
      const nameStart = at;
      const nameEnd = this.scanLabelName(buf, at, end);
      if (nameEnd < 0) return -1;
      if (buf[nameStart] === QUOTE) {
        const afterName = skipBlanks(buf, nameEnd, end);
        if (afterName < end && (buf[afterName] === COMMA || buf[afterName] === CLOSE_BRACE)) {
          this.problem('a second metric name inside the braces');
          return -1;
        }
      }
      checked.nameStarts[index] = nameStart - lineStart;
      checked.nameEnds[index] = nameEnd - lineStart;
      checked.shapes[index] = ((nameEnd - nameStart) << 16) | (buf[nameStart]! << 8) | buf[nameEnd - 1]!;
      at = this.expectEquals(buf, nameEnd, end, nameStart, nameEnd);
      if (at < 0) return -1;
      const closing = scanQuoted(buf, at, end);
      if (closing < 0) return this.badValue(buf.toString('utf8', nameStart, nameEnd));
      if (!isValidUtf8(buf, at + 1, closing)) return this.invalidUtf8(buf.toString('utf8', nameStart, nameEnd));
      checked.emptyValues[index] = closing === at + 1 ? 1 : 0;
      at = closing + 1;
      checked.labelEnds[index] = at - lineStart;
    }
    checked.labelEnds[index] = at + 1 - lineStart;
    return this.hasNameTwice(buf, lineStart, index) ? -1 : index;
  }

  /**
   * Whether one of the `count` label names checked is written twice, none of its labels empty
   * (Prometheus drops a name with an empty value before it looks); a problem if so. Names are
   * told apart by length and end bytes first, so most pairs compare as one integer.
   */
  private hasNameTwice(buf: Buffer, lineStart: number, count: number): boolean {
    const { nameStarts, nameEnds, shapes, emptyValues } = this.checked;
    for (let i = 1; i < count; i++) {
      let empty = emptyValues[i] === 1;
      let twice = false;
      const start = lineStart + nameStarts[i]!;
      const length = nameEnds[i]! - nameStarts[i]!;
      for (let j = 0; j < count; j++) {
        if (j === i || shapes[j] !== shapes[i] || !sameBytes(buf, start, lineStart + nameStarts[j]!, length)) continue;
        twice = true;
        empty ||= emptyValues[j] === 1;
      }
      if (twice && !empty) {
        this.problem(`label name ${buf.toString('utf8', start, start + length)} is written twice`);
        return true;
      }
    }
    return false;
  }

  /** The end of the label name at `at` (a plain name, or a quoted one); -1 and a problem if there is none. */
  private scanLabelName(buf: Buffer, at: number, end: number): number {
    if (at < end && buf[at] === QUOTE) {
      const closing = scanQuoted(buf, at, end);
      if (closing < 0 || closing === at + 1 || !isValidUtf8(buf, at + 1, closing)) {
        this.problem(`expected a label name, found ${quote(buf, at, end)}`);
        return -1;
      }
      return this.isReservedName(buf, at + 1, closing) ? -1 : closing + 1;
    }
    let nameEnd = at;
    if (nameEnd < end && CHAR_CLASS[buf[nameEnd]!]! & LABEL_START) {
      nameEnd++;
      while (nameEnd < end && CHAR_CLASS[buf[nameEnd]!]! & LABEL_CHAR) nameEnd++;
    }
    if (nameEnd === at) {
      this.problem(`expected a label name, found ${quote(buf, at, end)}`);
      return -1;
    }
    if (this.isReservedName(buf, at, nameEnd)) return -1;
    return nameEnd;
  }

  /** Whether `buf` holds `__name__` from `start` to `end`, a problem if so: the metric name is that label. */
  private isReservedName(buf: Buffer, start: number, end: number): boolean {
    if (end - start !== 8 || buf.toString('latin1', start, end) !== '__name__') return false;
    this.problem('label name __name__ repeats the metric name');
    return true;
  }

  /**
   * Past `=` and blanks after the label name from `nameStart` to `nameEnd`, at the value's opening
   * quote; -1 and a problem otherwise.
   */
  private expectEquals(buf: Buffer, at: number, end: number, nameStart: number, nameEnd: number): number {
    at = skipBlanks(buf, at, end);
    if (at >= end || buf[at] !== EQUALS) {
      this.problem(`expected "=" after ${buf.toString('utf8', nameStart, nameEnd)}, found ${quote(buf, at, end)}`);
      return -1;
    }
    at = skipBlanks(buf, at + 1, end);
    if (at >= end || buf[at] !== QUOTE) {
      this.problem(`expected a quoted value for ${buf.toString('utf8', nameStart, nameEnd)}, found ${quote(buf, at, end)}`);
      return -1;
    }
    return at;
  }

  private badValue(name: string): number {
    this.problem(`the value of ${name} has no closing quote`);
    return -1;
  }

  private invalidUtf8(name: string): number {
    this.problem(`the value of ${name} is not valid UTF-8`);
    return -1;
  }

  /**
   * The value after the labels (from `at`), checked with the optional timestamp after it to the
   * line's end; undefined and a problem if the rest of the line is not that.
   */
  private sampleValue(buf: Buffer, at: number, end: number): number | undefined {
    at = skipBlanks(buf, at, end);
    const valueStart = at;
    while (at < end && buf[at] !== SPACE && buf[at] !== TAB) at++;
    if (at === valueStart) {
      this.problem('expected a value, found the end of the line');
      return undefined;
    }
    const value = parseValue(buf, valueStart, at);
    if (value === undefined) {
      this.problem(`${quote(buf, valueStart, at)} is not a number`);
      return undefined;
    }
    at = skipBlanks(buf, at, end);
    if (at < end && !isTimestamp(buf, at, end)) {
      this.problem(`expected a timestamp (milliseconds) or the line's end, found ${quote(buf, at, end)}`);
      return undefined;
    }
    return value;
  }

  /**
   * A `#` line: a comment, or HELP or TYPE (`# HELP name text`, `# TYPE name type`), which must
   * be well formed: Prometheus refuses a page with an unknown type or a HELP that is not UTF-8.
   */
  private parseComment(buf: Buffer, at: number, end: number): void {
    if (at >= end || (buf[at] !== SPACE && buf[at] !== TAB)) return;
    at = skipBlanks(buf, at, end);
    const keyword = end - at > 4 && (buf[at + 4] === SPACE || buf[at + 4] === TAB) ? buf.toString('latin1', at, at + 4) : '';
    if (keyword !== 'HELP' && keyword !== 'TYPE') return;
    at = skipBlanks(buf, at + 4, end);
    let nameEnd = at;
    if (at < end && buf[at] === QUOTE) nameEnd = scanQuoted(buf, at, end) + 1;
    else if (at < end && CHAR_CLASS[buf[at]!]! & NAME_START) while (nameEnd < end && CHAR_CLASS[buf[nameEnd]!]! & NAME_CHAR) nameEnd++;
    if (nameEnd <= at) return this.problem(`expected a metric name after ${keyword}, found ${quote(buf, at, end)}`);
    // Prometheus drops the one character after the name, whatever it is, and reads the rest.
    const textStart = Math.min(nameEnd + 1, end);
    if (keyword === 'TYPE') {
      const type = buf.toString('latin1', textStart, end);
      if (!METRIC_TYPES.has(type)) this.problem(`unknown metric type ${JSON.stringify(type)} (expected one of ${[...METRIC_TYPES].join(', ')})`);
    } else if (!isValidUtf8(buf, textStart, end)) {
      this.problem('a HELP text that is not valid UTF-8');
    }
  }

  /** The schema of the line's label names: the previous line's when they are the same, as they mostly are. */
  private schemaOfLine(): number {
    const count = this.previousLabelCount;
    const previous = this.previousSchema;
    if (previous >= 0 && this.table.schemaIs(previous, this.labelNameIds, count)) return previous;
    return this.table.schema(this.labelNameIds, count);
  }

  /**
   * The line's metric name if it is kept (a wanted one as given, so no string is made for it), or
   * undefined if it is not.
   */
  private keptName(buf: Buffer, at: number, end: number): Known | undefined {
    if (isWordAt(this.view, at, end, this.lastName.bytes, NAME_CHAR)) return this.lastName;
    if (this.wanted) {
      for (const name of this.wanted) if (isWordAt(this.view, at, end, name.bytes, NAME_CHAR)) return name;
      return undefined;
    }
    let nameEnd = at + 1;
    while (nameEnd < end && CHAR_CLASS[buf[nameEnd]!]! & NAME_CHAR) nameEnd++;
    return toKnown(buf.toString('latin1', at, nameEnd));
  }

  /** How many leading labels this line, of the previous kept line's metric, shares with that line. */
  private sameLabelsAsPrevious(nameStart: number, end: number): number {
    if (this.previousLine === undefined) return 0;
    return commonLabels(this.view, nameStart, end, this.previousLine, this.previousStart, this.previousEnd, this.labelEnds, this.previousLabelCount);
  }

  /**
   * Reads labels into the by-position arrays up to the closing brace, from label `index` on (those
   * before it are the previous line's): `at` is just past the opening brace, or past the previous
   * label's closing quote. With `quotedNames`, a quoted string alone is the metric name. Returns
   * the index past the brace, or -1 on a problem.
   */
  private parseLabels(buf: Buffer, lineStart: number, at: number, end: number, index: number, quotedNames = false): number {
    for (; ; index++) {
      if (index > 0) {
        at = skipBlanks(buf, at, end);
        if (at < end && buf[at] === COMMA) at++;
      }
      at = skipBlanks(buf, at, end);
      if (at < end && buf[at] === CLOSE_BRACE) {
        this.previousLabelCount = index;
        return at + 1;
      }
      const nameStart = at;
      const name = buf[at] === QUOTE ? this.quotedLabelName(buf, at, end, index, quotedNames) : this.labelName(buf, at, end, index);
      if (name === undefined) return -1;
      if (name === NAME_GIVEN) {
        at = skipBlanks(buf, scanQuoted(buf, nameStart, end) + 1, end);
        if (at < end && buf[at] === COMMA) at++;
        index--;
        continue;
      }
      const nameEnd = buf[nameStart] === QUOTE ? scanQuoted(buf, nameStart, end) + 1 : nameStart + name.length;
      at = this.expectEquals(buf, nameEnd, end, nameStart, nameEnd);
      if (at < 0) return -1;
      at = this.labelValue(buf, at + 1, end, index);
      if (at < 0) return -1;
      this.labelEnds[index] = at - lineStart;
    }
  }

  /** The label name at `at`, as the previous line's string for this position when the bytes match. */
  private labelName(buf: Buffer, at: number, end: number, index: number): string | undefined {
    const known = this.labelNames[index];
    if (known !== undefined && isWordAt(this.view, at, end, known.bytes, LABEL_CHAR)) return known.text;
    const nameEnd = this.scanLabelName(buf, at, end);
    if (nameEnd < 0) return undefined;
    const name = buf.toString('latin1', at, nameEnd);
    this.labelNames[index] = toKnown(name);
    this.labelNameIds[index] = this.table.intern(name);
    return name;
  }

  /**
   * A quoted label name; or, followed by "," or "}" on a `{"name", ...}` line, the metric name
   * (NAME_GIVEN, kept in `quotedName`). Undefined and a problem if it is neither.
   */
  private quotedLabelName(buf: Buffer, at: number, end: number, index: number, quotedNames: boolean): string | typeof NAME_GIVEN | undefined {
    const nameEnd = this.scanLabelName(buf, at, end);
    if (nameEnd < 0) return undefined;
    const text = unescape(buf, at + 1, nameEnd - 1);
    const after = skipBlanks(buf, nameEnd, end);
    if (after < end && (buf[after] === COMMA || buf[after] === CLOSE_BRACE)) {
      if (!quotedNames || this.quotedName !== undefined) {
        this.problem('a second metric name inside the braces');
        return undefined;
      }
      this.quotedName = text;
      return NAME_GIVEN;
    }
    if (text === '__name__') {
      this.problem('label name __name__ repeats the metric name');
      return undefined;
    }
    // Not remembered by position: the next line is read afresh at a quoted name.
    this.labelNames[index] = toKnown('\0');
    this.labelNameIds[index] = this.table.intern(text);
    return text;
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
      const closing = scanQuoted(buf, start - 1, end);
      if (closing < 0) return this.badValue(this.nameAt(index));
      if (!isValidUtf8(buf, start, closing)) return this.invalidUtf8(this.nameAt(index));
      this.labelValueIds[index] = this.table.intern(unescape(buf, start, closing));
      return closing + 1;
    }
    if (high >= 0x80) {
      // Non-ASCII bytes are decoded each time: the hash table compares bytes with one-byte chars.
      if (!isValidUtf8(buf, start, at)) return this.invalidUtf8(this.nameAt(index));
      this.labelValueIds[index] = this.table.intern(buf.toString('utf8', start, at));
    } else {
      this.labelValueIds[index] = this.asciiValueId(buf, start, at, hash);
    }
    return at + 1;
  }

  private nameAt(index: number): string {
    return this.table.strings[this.labelNameIds[index]!]!;
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

/** What `quotedLabelName` returns for a metric name given inside the braces. */
const NAME_GIVEN = Symbol('name given');

keepClassWarm(new ExpositionParser());

/** Parses a whole page at once (tests, benchmarks): the same as one `push` and `end`. */
export function parseExposition(page: string | Buffer, wanted?: Iterable<string>): ParsedPage {
  const parser = new ExpositionParser(wanted);
  parser.push(page);
  return parser.end();
}

/**
 * How many of the `count` labels of a previous line (`previous`, from `previousStart` to
 * `previousEnd`, its labels ending at `labelEnds` from its start) the line in `view` from `start`
 * to `end` has, byte for byte from its start: those are the same labels, already read.
 */
function commonLabels(view: DataView, start: number, end: number, previous: DataView, previousStart: number, previousEnd: number, labelEnds: readonly number[], count: number): number {
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
function sameBytes(buf: Buffer, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (buf[a + i] !== buf[b + i]) return false;
  return true;
}

/** Whether one of the first `count` ids is the empty string's. */
function hasEmpty(ids: readonly number[], count: number): boolean {
  for (let i = 0; i < count; i++) if (ids[i] === LabelTable.EMPTY) return true;
  return false;
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

/** The index of the quote closing the string whose opening quote is at `at`; -1 if the line ends first. */
function scanQuoted(buf: Buffer, at: number, end: number): number {
  for (at++; at < end; at++) {
    const ch = buf[at];
    if (ch === QUOTE) return at;
    if (ch === BACKSLASH) at++;
  }
  return -1;
}

function isValidUtf8(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return isUtf8(buf.subarray(start, end));
  return true;
}

/**
 * A quoted string's text as Prometheus reads it: `\"`, `\\` and `\n` stand for a quote, a
 * backslash and a line end; any other backslash is taken as written, with what follows it.
 */
function unescape(buf: Buffer, start: number, end: number): string {
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
  return parseSampleValue(buf.toString('latin1', start, end));
}

/** The largest timestamp Prometheus reads (a Go int64), as digits. */
const MAX_TIMESTAMP = '9223372036854775807';

/** A timestamp ends the line: digits (no sign) that fit a Go int64, then only blanks. */
function isTimestamp(buf: Buffer, at: number, end: number): boolean {
  const digits = at;
  while (at < end && isDigit(buf[at]!)) at++;
  if (at === digits || skipBlanks(buf, at, end) !== end) return false;
  const text = buf.toString('latin1', digits, at).replace(/^0+(?=.)/, '');
  return text.length < MAX_TIMESTAMP.length || (text.length === MAX_TIMESTAMP.length && text <= MAX_TIMESTAMP);
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
