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
import { CHAR_CLASS, CLOSE_BRACE, COMMA, NAME_CHAR, OPEN_BRACE, QUOTE, BACKSLASH, HASH, LABEL_CHAR, commonLabels, isTextAt, isValidUtf8, isWordAt, quote, scanQuoted, skipBlanks, toKnown, unescape, type Known, NAME_START } from './bytes.js';
import { LineReader, type ParseProblem } from './lines.js';
import { keepClassWarm, LabelTable, Samples } from './series.js';

export { Samples, type Labels } from './series.js';
export type { ParseProblem } from './lines.js';

/** Kept samples by metric name. */
export type SeriesByName = Map<string, Samples>;

/** What a page yielded: the kept series, the number of lines, and the unreadable ones (first named). */
export interface ParsedPage {
  series: SeriesByName;
  lines: number;
  problems: number;
  firstProblem: ParseProblem | undefined;
  /** Set when the wanted metrics had more series than the parser keeps: `series` is then incomplete. */
  overflow: boolean;
}

/** Initial size of the hash table of ASCII label values' ids (a power of two, grown at half full). */
const VALUE_SLOTS = 1024;

/**
 * Parses a page fed in chunks. `wanted` names the metrics to keep (undefined keeps all); the lines
 * of other metrics are checked and dropped. At most `maxSeries` series are kept; past that the
 * page's result says `overflow`.
 */
export class ExpositionParser extends LineReader {
  private readonly wanted: Known[] | undefined;
  private readonly wantedTexts: Set<string> | undefined;
  private readonly table = new LabelTable();
  private readonly series: SeriesByName = new Map();
  private readonly maxSeries: number;
  private keptSeries = 0;
  private overflow = false;
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
   * closing quote ends (from the line's start).
   */
  private readonly labelNames: Known[] = [];
  private readonly labelNameIds: number[] = [];
  private readonly labelValueIds: number[] = [];
  private readonly labelEnds: number[] = [];
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
    super();
    this.wantedTexts = wanted ? new Set(wanted) : undefined;
    this.wanted = this.wantedTexts ? [...this.wantedTexts].map(toKnown) : undefined;
    this.maxSeries = maxSeries;
  }

  /**
   * Parses the last line (Prometheus reads a page without a final line end) and returns what was
   * kept, each metric's series once: of a series written twice, the first line counts, as in
   * Prometheus.
   */
  end(): ParsedPage {
    this.endLines();
    this.previousLine = undefined;
    for (const samples of this.series.values()) samples.seal({ firstOfEachSeries: true });
    return { series: this.series, lines: this.lineNumber, problems: this.problems, firstProblem: this.firstProblem, overflow: this.overflow };
  }

  /** One line, read in place with a local index: this is the parser's whole cost. */
  protected parseLine(buf: Buffer, start: number, end: number): void {
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

  protected override problem(message: string): void {
    // The line may have overwritten the labels kept by position: it is no model for the next.
    this.previousLabelCount = 0;
    this.previousSchema = -1;
    super.problem(message);
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

/** Whether one of the first `count` ids is the empty string's. */
function hasEmpty(ids: readonly number[], count: number): boolean {
  for (let i = 0; i < count; i++) if (ids[i] === LabelTable.EMPTY) return true;
  return false;
}
