/**
 * The PromQL subset the exposition source evaluates itself (SPEC §2.2): series selectors with
 * `= != =~ !~` (regexes are RE2, anchored at both ends, as in Prometheus), `increase` and `rate`
 * with an optional range (`[5m]`: see docs/exposition.md for the window it selects), `sum` with an
 * optional `by (...)` on either side, `histogram_quantile`, `+ - * /` and number literals.
 * Anything else is a syntax error that says where and what was expected, so plan validation can
 * point at the spot.
 */
import { RE2JS } from 're2js';

/** How a label is matched: equal, not equal, regex match, regex non-match. */
export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One `label op "value"` of a selector. A regex is compiled once, anchored at both ends as in PromQL. */
export interface Matcher {
  label: string;
  op: MatchOp;
  value: string;
  regex?: { matches(input: string): boolean };
}

/** `name{matchers}`: the series of one metric whose labels match. */
export interface Selector {
  kind: 'selector';
  name: string;
  matchers: Matcher[];
  /** The selector as written, for messages such as "no series match …". */
  text: string;
}

/** An arithmetic operator. */
export type BinaryOp = '+' | '-' | '*' | '/';

/** A parsed expression. Each node's kind names its PromQL construct. */
export type Expr =
  | { kind: 'number'; value: number }
  | Selector
  | RangeFunction
  | { kind: 'sum'; by: string[] | undefined; expr: Expr }
  | { kind: 'histogram_quantile'; quantile: Expr; expr: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr };

/** `increase(sel[range])` or `rate(sel[range])`; without a range, since the previous scrape. */
export interface RangeFunction {
  kind: 'increase' | 'rate';
  selector: Selector;
  /** The range written in brackets, in ms; undefined when none is. */
  rangeMs: number | undefined;
}

/** An expression that is not in the subset; `offset` is where in the text the problem starts. */
export class ExpressionSyntaxError extends Error {
  constructor(
    readonly offset: number,
    readonly detail: string,
  ) {
    super(`${detail} (at offset ${offset})`);
    this.name = 'ExpressionSyntaxError';
  }
}

/** Parses an expression of the subset, or throws `ExpressionSyntaxError`. */
export function parseExpression(text: string): Expr {
  const parser = new Parser(text);
  const expr = parser.expression();
  parser.expectEnd();
  return expr;
}

/** The metric names an expression reads: what the page parser must keep. */
export function metricNamesOf(expr: Expr): string[] {
  const names = new Set<string>();
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case 'number':
        return;
      case 'selector':
        names.add(e.name);
        return;
      case 'increase':
      case 'rate':
        return visit(e.selector);
      case 'sum':
        return visit(e.expr);
      case 'histogram_quantile':
        visit(e.quantile);
        return visit(e.expr);
      case 'binary':
        visit(e.left);
        return visit(e.right);
    }
  };
  visit(expr);
  return [...names];
}

/** The increase() and rate() calls of an expression: what a scrape must be kept for. */
export function rangeFunctionsOf(expr: Expr): RangeFunction[] {
  switch (expr.kind) {
    case 'number':
    case 'selector':
      return [];
    case 'increase':
    case 'rate':
      return [expr];
    case 'sum':
      return rangeFunctionsOf(expr.expr);
    case 'histogram_quantile':
      return [...rangeFunctionsOf(expr.quantile), ...rangeFunctionsOf(expr.expr)];
    case 'binary':
      return [...rangeFunctionsOf(expr.left), ...rangeFunctionsOf(expr.right)];
  }
}

/** Whether an expression yields one number (scalar) or labelled samples (vector); known statically. */
function resultTypeOf(expr: Expr): 'scalar' | 'vector' {
  switch (expr.kind) {
    case 'number':
      return 'scalar';
    case 'binary':
      return resultTypeOf(expr.left) === 'scalar' && resultTypeOf(expr.right) === 'scalar' ? 'scalar' : 'vector';
    default:
      return 'vector';
  }
}

type TokenKind = 'identifier' | 'number' | 'string' | 'punctuation' | 'end';

interface Token {
  kind: TokenKind;
  /** The token as written (for a string, with its quotes). */
  text: string;
  offset: number;
  /** A string's value, escapes resolved; a number's value. */
  value?: string | number;
}

const FUNCTIONS = ['sum', 'increase', 'rate', 'histogram_quantile'];
const PUNCTUATION = ['!=', '=~', '!~', '(', ')', '{', '}', '[', ']', ',', '=', '+', '-', '*', '/'];
const IDENTIFIER = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NUMBER = /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const DURATION = /\s*((?:\d+(?:ms|s|m|h|d|w|y))+)\s*\]/y;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '`': '`', a: '\x07', b: '\b', f: '\f', v: '\v' };

/** A recursive-descent parser with one token of lookahead. */
class Parser {
  private at = 0;
  private lookahead: Token | undefined;
  /** Where the last token taken ends. */
  private taken = 0;

  constructor(private readonly text: string) {}

  /** expression := term (('+' | '-') term)* */
  expression(): Expr {
    let left = this.term();
    for (let op = this.peekOperator('+', '-'); op; op = this.peekOperator('+', '-')) {
      this.next();
      left = { kind: 'binary', op, left, right: this.term() };
    }
    return left;
  }

  expectEnd(): void {
    const token = this.peek();
    if (token.kind !== 'end') this.fail(token, 'an operator (+ - * /) or the end of the expression');
  }

  /** term := unary (('*' | '/') unary)* */
  private term(): Expr {
    let left = this.unary();
    for (let op = this.peekOperator('*', '/'); op; op = this.peekOperator('*', '/')) {
      this.next();
      left = { kind: 'binary', op, left, right: this.unary() };
    }
    return left;
  }

  /** unary := ('-' | '+') unary | primary */
  private unary(): Expr {
    const sign = this.peekOperator('+', '-');
    if (!sign) return this.primary();
    this.next();
    const operand = this.unary();
    if (sign === '+') return operand;
    if (operand.kind === 'number') return { kind: 'number', value: -operand.value };
    // PromQL's -v keeps v's labels; so does -1 * v.
    return { kind: 'binary', op: '*', left: { kind: 'number', value: -1 }, right: operand };
  }

  /** primary := number | '(' expression ')' | function call | selector */
  private primary(): Expr {
    const token = this.peek();
    if (token.kind === 'number') {
      this.next();
      return { kind: 'number', value: token.value as number };
    }
    if (token.text === '(') {
      this.next();
      const inner = this.expression();
      this.expect(')');
      return inner;
    }
    if (token.kind !== 'identifier') return this.fail(token, 'a number, a metric name, a function or "("');
    this.next();
    if (this.peek().text === '(' || token.text === 'sum') return this.call(token);
    const selector = this.selectorAfterName(token);
    if (this.peek().text === '[') this.fail(this.peek(), 'an operator: a range [..] is only allowed inside rate() or increase()');
    return selector;
  }

  private call(name: Token): Expr {
    switch (name.text) {
      case 'sum':
        return this.sum();
      case 'increase':
      case 'rate': {
        this.expect('(');
        const { selector, rangeMs } = this.rangeSelector();
        this.expect(')');
        return { kind: name.text, selector, rangeMs };
      }
      case 'histogram_quantile': {
        this.expect('(');
        const quantile = this.typed('scalar', () => this.expression());
        this.expect(',');
        const expr = this.typed('vector', () => this.expression());
        this.expect(')');
        return { kind: 'histogram_quantile', quantile, expr };
      }
      default:
        return this.fail(name, `a supported function (${FUNCTIONS.join(', ')}), not "${name.text}"`);
    }
  }

  /** sum [by (labels)] (expr) [by (labels)] */
  private sum(): Expr {
    let by = this.grouping();
    this.expect('(');
    const expr = this.typed('vector', () => this.expression());
    this.expect(')');
    if (by === undefined) by = this.grouping();
    return { kind: 'sum', by, expr };
  }

  private grouping(): string[] | undefined {
    const token = this.peek();
    if (token.text === 'without') this.fail(token, '"by" ("without" is not supported)');
    if (token.kind !== 'identifier' || token.text !== 'by') return undefined;
    this.next();
    this.expect('(');
    const labels: string[] = [];
    while (this.peek().text !== ')') {
      labels.push(this.labelName());
      if (this.peek().text !== ',') break;
      this.next();
    }
    this.expect(')');
    return labels;
  }

  /** The argument of rate/increase: a selector, optionally with a range. */
  private rangeSelector(): { selector: Selector; rangeMs: number | undefined } {
    const name = this.peek();
    if (name.kind !== 'identifier' || FUNCTIONS.includes(name.text)) return this.fail(name, 'a series selector such as http_requests_total{...}');
    this.next();
    const selector = this.selectorAfterName(name);
    if (this.peek().text !== '[') return { selector, rangeMs: undefined };
    const open = this.next();
    DURATION.lastIndex = this.at;
    const match = DURATION.exec(this.text);
    if (!match) this.fail(open, 'a duration such as [5m] and "]"');
    let rangeMs = 0;
    for (const [, count, unit] of match[1]!.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) rangeMs += Number(count) * UNIT_MS[unit!]!;
    if (rangeMs <= 0) throw new ExpressionSyntaxError(open.offset, 'a range longer than 0');
    this.at = DURATION.lastIndex;
    return { selector, rangeMs };
  }

  private selectorAfterName(name: Token): Selector {
    const matchers: Matcher[] = [];
    if (this.peek().text === '{') {
      this.next();
      while (this.peek().text !== '}') {
        matchers.push(this.matcher());
        if (this.peek().text !== ',') break;
        this.next();
      }
      this.expect('}');
    }
    return { kind: 'selector', name: name.text, matchers, text: this.text.slice(name.offset, this.taken) };
  }

  private matcher(): Matcher {
    const label = this.labelName();
    const opToken = this.next();
    const op = opToken.text as MatchOp;
    if (!['=', '!=', '=~', '!~'].includes(op)) this.fail(opToken, `a matcher (= != =~ !~) after ${label}`);
    const valueToken = this.next();
    if (valueToken.kind !== 'string') this.fail(valueToken, `a quoted value after ${label}${op}`);
    const value = valueToken.value as string;
    if (op === '=' || op === '!=') return { label, op, value };
    try {
      // RE2, anchored at both ends as Prometheus 2 does (Prometheus 3 also lets "." match "\n").
      return { label, op, value, regex: RE2JS.compile(`^(?:${value})$`) };
    } catch (err) {
      return this.fail(valueToken, `a valid regular expression (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  private labelName(): string {
    const token = this.next();
    if (token.kind !== 'identifier' || !LABEL_NAME.test(token.text)) this.fail(token, 'a label name');
    return token.text;
  }

  /** Parses with `parse` and checks the result's type, as PromQL does before evaluating. */
  private typed(type: 'scalar' | 'vector', parse: () => Expr): Expr {
    const start = this.peek();
    const expr = parse();
    if (resultTypeOf(expr) !== type) {
      throw new ExpressionSyntaxError(start.offset, type === 'vector' ? 'expected series (a vector), not a number' : 'expected a number (a scalar), not series');
    }
    return expr;
  }

  private peekOperator<Op extends BinaryOp>(...ops: Op[]): Op | undefined {
    const token = this.peek();
    return token.kind === 'punctuation' && (ops as string[]).includes(token.text) ? (token.text as Op) : undefined;
  }

  private expect(text: string): Token {
    const token = this.next();
    if (token.text !== text) this.fail(token, `"${text}"`);
    return token;
  }

  private fail(token: Token, expected: string): never {
    const found = token.kind === 'end' ? 'the end of the expression' : `"${token.text}"`;
    throw new ExpressionSyntaxError(token.offset, `expected ${expected}, found ${found}`);
  }

  private peek(): Token {
    this.lookahead ??= this.lex();
    return this.lookahead;
  }

  private next(): Token {
    const token = this.peek();
    this.lookahead = undefined;
    this.taken = token.offset + token.text.length;
    return token;
  }

  private lex(): Token {
    const text = this.text;
    while (this.at < text.length && /\s/.test(text[this.at]!)) this.at++;
    const offset = this.at;
    if (offset >= text.length) return { kind: 'end', text: '', offset };
    const ch = text[offset]!;
    if (ch === '"' || ch === "'" || ch === '`') return this.lexString(ch, offset);
    for (const [kind, pattern] of [['number', NUMBER], ['identifier', IDENTIFIER]] as const) {
      pattern.lastIndex = offset;
      const match = pattern.exec(text);
      if (match) {
        this.at = pattern.lastIndex;
        return kind === 'number' ? { kind, text: match[0], offset, value: Number(match[0]) } : { kind, text: match[0], offset };
      }
    }
    const punctuation = PUNCTUATION.find((p) => text.startsWith(p, offset));
    if (punctuation) {
      this.at += punctuation.length;
      return { kind: 'punctuation', text: punctuation, offset };
    }
    throw new ExpressionSyntaxError(offset, `unexpected character "${ch}"`);
  }

  /** A PromQL string: "..." or '...' with Go escapes, or `...` taken as written. */
  private lexString(quote: string, offset: number): Token {
    const text = this.text;
    let value = '';
    let at = offset + 1;
    while (at < text.length && text[at] !== quote) {
      if (text[at] === '\\' && quote !== '`') {
        const escaped = ESCAPES[text[at + 1] ?? ''];
        if (escaped === undefined) throw new ExpressionSyntaxError(at, `unknown escape "\\${text[at + 1] ?? ''}" in a string (write "\\\\" for a backslash)`);
        value += escaped;
        at += 2;
      } else {
        value += text[at++];
      }
    }
    if (at >= text.length) throw new ExpressionSyntaxError(offset, `expected a closing ${quote} for the string starting here`);
    this.at = at + 1;
    return { kind: 'string', text: text.slice(offset, this.at), offset, value };
  }
}
