/**
 * What `rollout validate` can tell from a SQL query's text without a database: that it is one
 * statement, that it reads, and which parameters it uses. A light tokenizer, not a parser: it
 * only has to know where strings, quoted names, dollar-quoted bodies and comments begin and end,
 * so a `;` or `$2` inside one is not mistaken for code. The database is the real judge: every
 * query runs in a READ ONLY transaction (sources/postgres.ts), whatever this lets through.
 */

/** A query's text as far as validation cares, or why it cannot be read. */
export type SqlShape = { ok: true; firstWord: string; parameters: number[] } | { ok: false; reason: string; hint: string };

/** Statements that return rows without writing (a data-modifying WITH is refused by the database). */
const READING_WORDS = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE']);

/** The one parameter a query is given: the window, `$1`. */
export const WINDOW_PARAMETER = 1;

// Sticky: each matches at one position. A dollar-quote tag is $$ or $name$ (a name does not
// start with a digit: $1 is a parameter); a word may hold $ (a$1 is one name, not a parameter).
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/y;
const PARAMETER = /\$\d+/y;
const WORD = /[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*/y;

/** What `pattern` matches at `at`, if anything. */
function matchAt(pattern: RegExp, text: string, at: number): string | undefined {
  pattern.lastIndex = at;
  return pattern.exec(text)?.[0];
}

/** A piece of query text that matters here; blanks and comments are skipped. */
type Token = { kind: 'word' | 'parameter' | 'end' | 'other'; text: string };

/** Reads a query's text: its statements (one, a trailing `;` allowed), first word and parameters. */
export function readSqlShape(text: string): SqlShape {
  const firstWords: string[] = [];
  const parameters = new Set<number>();
  let first: string | undefined;
  try {
    for (const token of tokens(text)) {
      if (token.kind === 'end') {
        if (first !== undefined) firstWords.push(first);
        first = undefined;
      } else {
        if (token.kind === 'parameter') parameters.add(Number(token.text.slice(1)));
        // `(SELECT …)` is a query too.
        if (first === undefined && token.text !== '(') first = token.text;
      }
    }
  } catch (err) {
    if (err instanceof Unterminated) return { ok: false, reason: err.message, hint: 'close it; inside a string, write a quote twice' };
    throw err;
  }
  if (first !== undefined) firstWords.push(first);
  return shapeOf(firstWords, [...parameters].sort((a, b) => a - b));
}

class Unterminated extends Error {}

/** The query's tokens, in order; throws `Unterminated` for a string, name or comment left open. */
function* tokens(text: string): Generator<Token> {
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    const tag = char === '$' ? matchAt(DOLLAR_TAG, text, i) : undefined;
    const parameter = char === '$' ? matchAt(PARAMETER, text, i) : undefined;
    const word = matchAt(WORD, text, i);
    let end = i + 1;
    if (text.startsWith('--', i)) end = lineEnd(text, i);
    else if (text.startsWith('/*', i)) end = orUnterminated(blockCommentEnd(text, i), 'comment', i);
    else if (char === "'") end = orUnterminated(quoteEnd(text, i, "'", isEscapeString(text, i)), 'string', i);
    else if (char === '"') end = orUnterminated(quoteEnd(text, i, '"', false), 'quoted name', i);
    else if (tag) end = orUnterminated(dollarQuoteEnd(text, i, tag), 'dollar-quoted string', i);
    else if (parameter) end = i + parameter.length;
    else if (word) end = i + word.length;
    const skipped = text.startsWith('--', i) || text.startsWith('/*', i) || /\s/.test(char);
    if (!skipped) yield { kind: parameter ? 'parameter' : word ? 'word' : char === ';' ? 'end' : 'other', text: text.slice(i, end) };
    i = end;
  }
}

function orUnterminated(end: number, what: string, at: number): number {
  if (end < 0) throw new Unterminated(`unterminated ${what} at character ${at + 1}`);
  return end;
}

function shapeOf(statements: string[], parameters: number[]): SqlShape {
  const [first] = statements;
  if (first === undefined) return { ok: false, reason: 'the query is empty', hint: 'write a SELECT that returns one number' };
  if (statements.length > 1) {
    return { ok: false, reason: `the query holds ${statements.length} statements`, hint: 'a metric reads one SELECT; remove the others (a trailing ; is fine)' };
  }
  const firstWord = first.toUpperCase();
  if (!READING_WORDS.has(firstWord)) {
    return { ok: false, reason: `the query starts with ${firstWord}, which does not read`, hint: 'write a SELECT (or WITH … SELECT) that returns one number; queries run read-only' };
  }
  const extra = parameters.find((n) => n !== WINDOW_PARAMETER);
  if (extra !== undefined) {
    return { ok: false, reason: `the query uses $${extra}, which is never given`, hint: 'the only parameter is $1, the window as an interval: created_at > now() - $1::interval' };
  }
  return { ok: true, firstWord, parameters };
}

/** E'…' (or e'…') strings take backslash escapes; others do not (standard_conforming_strings). */
function isEscapeString(text: string, quote: number): boolean {
  return /[Ee]/.test(text[quote - 1] ?? '') && !/\w/.test(text[quote - 2] ?? '');
}

function lineEnd(text: string, from: number): number {
  const newline = text.indexOf('\n', from);
  return newline < 0 ? text.length : newline + 1;
}

/** Block comments nest in PostgreSQL. */
function blockCommentEnd(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length - 1; i++) {
    if (text.startsWith('/*', i)) {
      depth++;
      i++;
    } else if (text.startsWith('*/', i)) {
      depth--;
      i++;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** The index after a quoted string or name; a doubled quote is part of it. -1 when it never ends. */
function quoteEnd(text: string, from: number, quote: string, backslashEscapes: boolean): number {
  for (let i = from + 1; i < text.length; i++) {
    if (backslashEscapes && text[i] === '\\') i++;
    else if (text[i] === quote) {
      if (text[i + 1] !== quote) return i + 1;
      i++;
    }
  }
  return -1;
}

function dollarQuoteEnd(text: string, from: number, tag: string): number {
  const close = text.indexOf(tag, from + tag.length);
  return close < 0 ? -1 : close + tag.length;
}
