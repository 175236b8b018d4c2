/**
 * The pure text logic of the env-file target: find one `KEY=value` line and change its value,
 * leaving every other byte of the file as it was (comments, blank lines, order, `export `,
 * quoting, inline comments, each line's own ending, a missing final newline).
 *
 * A key assigned on several lines is refused, for reading and writing: changing only one would
 * leave the others stale, and readers disagree on which wins. A key the file lacks is appended only
 * when the caller allows it (the plan's `emergency` keys, and 0 % for the rollout's own key); to
 * raise a percentage the key must be there, so that a typo in `target.key` fails instead of adding
 * a line nothing reads.
 */

/** A quoting style as found in the file: single, double, backtick, or none. */
type Quote = "'" | '"' | '`' | '';

interface Line {
  /** The line without its ending. */
  content: string;
  /** "\r\n", "\n", or "" for a last line without one. */
  eol: string;
}

interface Assignment {
  key: string;
  /** Everything before the value: indentation, `export `, the key, `=` and the spaces around it. */
  head: string;
  quote: Quote;
  /** The value with its quotes removed, escapes not yet resolved. */
  inner: string;
  /** Everything after the value: spaces and an inline `# comment`, kept verbatim. */
  tail: string;
  /** False when a quoted value does not close on this line (a multi-line value). */
  closed: boolean;
}

// \s would also eat a BOM at the start of the file, which is what we want: it stays in `head`.
const ASSIGNMENT = /^(\s*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*)(.*)$/;

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  for (const match of text.matchAll(/([^\n]*?)(\r?\n|$)/g)) {
    const [whole, content = '', eol = ''] = match;
    if (whole === '' && match.index === text.length) break;
    lines.push({ content, eol });
  }
  return lines;
}

/** Index of the closing `quote` in `text` from `from`, skipping backslash escapes inside "…". */
function closingQuote(text: string, quote: Exclude<Quote, ''>, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

function parseAssignment(content: string): Assignment | undefined {
  const match = ASSIGNMENT.exec(content);
  if (!match) return undefined;
  const [, head = '', key = '', rest = ''] = match;
  const first = rest[0];
  if (first === "'" || first === '"' || first === '`') {
    const end = closingQuote(rest, first, 1);
    if (end < 0) return { key, head, quote: first, inner: rest.slice(1), tail: '', closed: false };
    return { key, head, quote: first, inner: rest.slice(1, end), tail: rest.slice(end + 1), closed: true };
  }
  // An unquoted value ends where an inline comment (whitespace, then #) begins.
  const comment = /[ \t]+#/.exec(rest);
  const value = comment ? rest.slice(0, comment.index) : rest;
  const inner = value.trimEnd();
  return { key, head, quote: '', inner, tail: rest.slice(inner.length), closed: true };
}

/** The line assigning `key` (0-based index) with its parse, or undefined; multi-line values are skipped over. */
function findAssignment(lines: Line[], key: string): { index: number; assignment: Assignment } | undefined {
  const found: { index: number; assignment: Assignment }[] = [];
  let openQuote: Exclude<Quote, ''> | undefined;
  lines.forEach((line, index) => {
    if (openQuote) {
      if (closingQuote(line.content, openQuote, 0) >= 0) openQuote = undefined;
      return;
    }
    const assignment = parseAssignment(line.content);
    if (!assignment) return;
    if (assignment.key === key) found.push({ index, assignment });
    if (!assignment.closed) openQuote = assignment.quote as Exclude<Quote, ''>;
  });
  if (found.length > 1) {
    const numbers = found.map((f) => f.index + 1);
    throw new Error(
      `${key} is set on lines ${numbers.slice(0, -1).join(', ')} and ${numbers[numbers.length - 1]}; ` +
        'rollout changes one line only, so remove all but one',
    );
  }
  const only = found[0];
  if (only && !only.assignment.closed) throw new Error(`the value of ${key} on line ${only.index + 1} spans several lines, which rollout does not edit`);
  return only;
}

function unquote(assignment: Assignment): string {
  if (assignment.quote !== '"') return assignment.inner;
  return assignment.inner.replace(/\\(["\\nr])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}

/** Whether `value` can be written in `quote` style without escapes or changing its meaning. */
function fits(value: string, quote: Quote): boolean {
  if (quote === '') return /^[^\s#'"`\\$]*$/.test(value);
  if (quote === '"') return !/["\\$]/.test(value);
  return !value.includes(quote);
}

/**
 * Writes `value` in the line's quoting style, or in the first style that can hold it (double, then
 * single quotes). Values needing escapes or newlines are refused rather than guessed at.
 */
function formatValue(value: string, quote: Quote, key: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`the new value of ${key} contains a line break`);
  const style = ([quote, '"', "'"] as Quote[]).find((q) => fits(value, q));
  if (style === undefined) throw new Error(`the new value of ${key} contains both kinds of quote and cannot be written`);
  return `${style}${value}${style}`;
}

/** The value the file gives `key` (unquoted), or undefined when absent; throws when several lines set it. */
export function readEnvValue(text: string, key: string): string | undefined {
  const found = findAssignment(splitLines(text), key);
  return found ? unquote(found.assignment) : undefined;
}

/**
 * Returns `text` with each key of `values` set: the line assigning it has its value replaced in
 * place; a key the file lacks is appended as `KEY=value` with the file's line ending if `append`
 * allows, else refused. Throws a plain Error for values that cannot be written and for keys that
 * are missing, set on several lines, or whose value spans lines.
 */
export function setEnvValues(text: string, values: Record<string, string>, options: { append?: boolean } = {}): string {
  const lines = splitLines(text);
  const missing: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const found = findAssignment(lines, key);
    if (!found) {
      if (!options.append) throw new Error(`no line sets ${key}; add \`${key}=0\` to the file if the key is right (a typo in target.key?)`);
      missing.push(`${key}=${formatValue(value, '', key)}`);
      continue;
    }
    const { head, quote, tail } = found.assignment;
    const line = lines[found.index] as Line;
    line.content = head + formatValue(value, quote, key) + tail;
  }
  const out = lines.map((l) => l.content + l.eol).join('');
  if (missing.length === 0) return out;
  const eol = /\r?\n/.exec(text)?.[0] ?? '\n';
  const added = missing.join(eol);
  if (out === '') return added + eol;
  // Keep the file's choice about a final newline: end with one only where the file did.
  return out.endsWith('\n') ? out + added + eol : out + eol + added;
}
