/**
 * Reading a page line by line as Prometheus's scrape does (parse.ts keeps what the plan needs):
 * lines framed from chunks, every line checked — comments, HELP and TYPE, label syntax, values and
 * timestamps — and the first problem remembered. A line of a metric that is not kept is checked
 * here in full, making no strings.
 */
import { CHAR_CLASS, CLOSE_BRACE, COMMA, EQUALS, LABEL_CHAR, LABEL_START, LF, NAME_CHAR, NAME_START, OPEN_BRACE, QUOTE, SPACE, TAB, commonLabels, isTimestamp, isValidUtf8, parseValue, quote, sameBytes, scanQuoted, skipBlanks, viewOf } from './bytes.js';

/** A line of the page the parser could not read. */
export interface ParseProblem {
  /** 1-based line number on the page. */
  line: number;
  message: string;
}

/**
 * The longest unfinished line held while it waits for its end. A line of the format is a name,
 * labels and a number; one this long is not the format (a page of one endless line, say), and
 * holding it would grow and re-copy a buffer with every chunk, up to the page's size cap.
 */
const MAX_LINE_BYTES = 1024 * 1024;

/** The metric types a TYPE line may name (Prometheus refuses the scrape for any other). */
const METRIC_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Frames a page fed in chunks into lines and checks each; subclasses say what a line keeps. */
export abstract class LineReader {
  /** Set while the rest of a line over MAX_LINE_BYTES is dropped, up to its end. */
  private skippingLine = false;
  /** The unfinished last line of what has arrived so far. */
  private pending: Buffer | undefined;
  /** The buffer being parsed, seen as a DataView to compare lines four bytes at a time. */
  protected view = viewOf(Buffer.alloc(0));
  protected lineNumber = 0;
  protected problems = 0;
  protected firstProblem: ParseProblem | undefined;
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

  /** Reads one line of `buf`, from `start` to `end` (its line end excluded). */
  protected abstract parseLine(buf: Buffer, start: number, end: number): void;

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

  /** Reads the last line: Prometheus reads a page without a final line end. */
  protected endLines(): void {
    const rest = this.pending;
    this.pending = undefined;
    if (rest) {
      this.view = viewOf(rest);
      this.parseLine(rest, 0, rest.length);
    }
  }

  /** Checks a line of a metric that is not kept, as strictly as a kept one, making no strings. */
  protected checkLine(buf: Buffer, lineStart: number, end: number): void {
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
  protected scanLabelName(buf: Buffer, at: number, end: number): number {
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
  protected expectEquals(buf: Buffer, at: number, end: number, nameStart: number, nameEnd: number): number {
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

  protected badValue(name: string): number {
    this.problem(`the value of ${name} has no closing quote`);
    return -1;
  }

  protected invalidUtf8(name: string): number {
    this.problem(`the value of ${name} is not valid UTF-8`);
    return -1;
  }

  /**
   * The value after the labels (from `at`), checked with the optional timestamp after it to the
   * line's end; undefined and a problem if the rest of the line is not that.
   */
  protected sampleValue(buf: Buffer, at: number, end: number): number | undefined {
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
  protected parseComment(buf: Buffer, at: number, end: number): void {
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

  protected problem(message: string): void {
    this.problems++;
    this.firstProblem ??= { line: this.lineNumber, message };
  }
}
