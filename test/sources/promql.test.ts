import { describe, expect, it } from 'vitest';
import { ExpressionSyntaxError, metricNamesOf, parseExpression, type Expr, type Matcher, type Selector } from '../../src/sources/exposition/promql.js';

const n = (value: number): Expr => ({ kind: 'number', value });
const sel = (name: string, text = name, matchers: Matcher[] = []): Selector => ({ kind: 'selector', name, matchers, text });
const bin = (op: '+' | '-' | '*' | '/', left: Expr, right: Expr): Expr => ({ kind: 'binary', op, left, right });

describe('parseExpression', () => {
  it.each<[string, Expr]>([
    ['42', n(42)],
    ['0.95', n(0.95)],
    ['.5', n(0.5)],
    ['1e3', n(1000)],
    ['-1', n(-1)],
    ['up', sel('up')],
    ['job:requests:rate5m', sel('job:requests:rate5m')],
    ['x{}', sel('x', 'x{}')],
    ['1 + 2 * 3', bin('+', n(1), bin('*', n(2), n(3)))],
    ['(1 + 2) * 3', bin('*', bin('+', n(1), n(2)), n(3))],
    ['1 - 2 - 3', bin('-', bin('-', n(1), n(2)), n(3))],
    ['8 / 4 / 2', bin('/', bin('/', n(8), n(4)), n(2))],
    ['a / b - c', bin('-', bin('/', sel('a'), sel('b')), sel('c'))],
    ['-a', bin('*', n(-1), sel('a'))],
    ['2 * -3', bin('*', n(2), n(-3))],
    ['+a', sel('a')],
    ['rate(x[5m])', { kind: 'rate', selector: sel('x'), rangeMs: 300_000 }],
    ['rate(x[30s])', { kind: 'rate', selector: sel('x'), rangeMs: 30_000 }],
    ['increase(x)', { kind: 'increase', selector: sel('x'), rangeMs: undefined }],
    ['increase( x{a="b"} [1h30m] )', { kind: 'increase', selector: sel('x', 'x{a="b"}', [{ label: 'a', op: '=', value: 'b' }]), rangeMs: 5_400_000 }],
    ['rate(x[1d500ms])', { kind: 'rate', selector: sel('x'), rangeMs: 86_400_500 }],
    ['sum(x)', { kind: 'sum', by: undefined, expr: sel('x') }],
    ['sum by (le) (x)', { kind: 'sum', by: ['le'], expr: sel('x') }],
    ['sum(x) by (le, variant)', { kind: 'sum', by: ['le', 'variant'], expr: sel('x') }],
    ['sum by (a,) (x)', { kind: 'sum', by: ['a'], expr: sel('x') }],
    ['sum by () (x)', { kind: 'sum', by: [], expr: sel('x') }],
    ['histogram_quantile(0.95, x)', { kind: 'histogram_quantile', quantile: n(0.95), expr: sel('x') }],
    ['histogram_quantile(1 - 0.05, x)', { kind: 'histogram_quantile', quantile: bin('-', n(1), n(0.05)), expr: sel('x') }],
  ])('parses %s', (text, expected) => {
    expect(parseExpression(text)).toEqual(expected);
  });

  it('parses the plan examples of SPEC §2', () => {
    const errors = parseExpression(
      'sum(increase(http_requests_total{variant="canary",status=~"5.."})) / sum(increase(http_requests_total{variant="canary"}))',
    );
    expect(errors).toMatchObject({ kind: 'binary', op: '/', left: { kind: 'sum', expr: { kind: 'increase' } }, right: { kind: 'sum' } });
    const p95 = parseExpression('histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{variant="canary"}[5m])))');
    expect(p95).toMatchObject({ kind: 'histogram_quantile', expr: { kind: 'sum', by: ['le'], expr: { kind: 'rate' } } });
  });

  it.each<[string, Matcher['op'], string]>([
    ['x{a="v"}', '=', 'v'],
    ['x{a!="v"}', '!=', 'v'],
    ['x{a=~"v.*"}', '=~', 'v.*'],
    ['x{a!~"v.*"}', '!~', 'v.*'],
    ["x{a='single'}", '=', 'single'],
    ['x{a=`raw\\d`}', '=', 'raw\\d'],
    ['x{a="esc\\"aped\\\\\\n"}', '=', 'esc"aped\\\n'],
  ])('reads the matcher in %s', (text, op, value) => {
    const expr = parseExpression(text) as Selector;
    expect(expr.matchers).toHaveLength(1);
    expect(expr.matchers[0]).toMatchObject({ label: 'a', op, value });
    expect(expr.text).toBe(text);
  });

  it.each([
    ['5..', '500', true],
    ['5..', '5000', false],
    ['5..', '1500', false],
    ['2..|3..', '302', true],
    ['a|b', 'ab', false],
    ['.*', '', true],
    ['.+', '', false],
    // As Prometheus 2 anchors: ^(?:re)$, "." not matching a line end (Prometheus 3 lets it).
    ['line.end', 'line\nend', false],
    // RE2, not JavaScript: POSIX classes, flags, \z, \Q…\E, Unicode classes.
    ['[[:digit:]]00', '500', true],
    ['[[:digit:]]00', 'd]00', false],
    ['[[:alpha:]]+', 'abc', true],
    ['(?i)get', 'GET', true],
    ['a\\\\z', 'a', true],
    ['\\\\Q.*\\\\E', '.*', true],
    ['\\\\Q.*\\\\E', 'ab', false],
    ['\\\\pL+', 'héllo', true],
    ['\\\\pL+', 'h1', false],
    ['x|(?s:.)', '\n', true],
  ])('anchors the RE2 regex %s at both ends: %j matches: %s', (regex, value, expected) => {
    const matcher = (parseExpression(`x{a=~"${regex}"}`) as Selector).matchers[0]!;
    expect(matcher.regex!.matches(value)).toBe(expected);
  });

  it.each([
    ['', 0, 'expected a number, a metric name, a function or "(", found the end of the expression'],
    ['sum(', 4, 'found the end of the expression'],
    ['x +', 3, 'expected a number, a metric name'],
    ['x y', 2, 'expected an operator (+ - * /) or the end of the expression, found "y"'],
    ['1 2', 2, 'expected an operator'],
    ['(x', 2, 'expected ")"'],
    ['x)', 1, 'expected an operator'],
    ['avg(x)', 0, 'expected a supported function (sum, increase, rate, histogram_quantile), not "avg"'],
    ['x[5m]', 1, 'a range [..] is only allowed inside rate() or increase()'],
    ['rate(x[5m:1m])', 6, 'expected a duration such as [5m] and "]"'],
    ['rate(x[five])', 6, 'expected a duration'],
    ['rate(sum(x))', 5, 'expected a series selector'],
    ['rate(1)', 5, 'expected a series selector'],
    ['x{a~"b"}', 3, 'unexpected character "~"'],
    ['x{a="b"', 7, 'expected "}"'],
    ['x{a=b}', 4, 'expected a quoted value after a='],
    ['x{"a"="b"}', 2, 'expected a label name'],
    ['x{a:b="c"}', 2, 'expected a label name'],
    ['x{a=~"("}', 5, 'expected a valid regular expression'],
    ['x{a=~"a(?=b)"}', 5, 'expected a valid regular expression'],
    ['rate(x[0s])', 6, 'a range longer than 0'],
    ['x{a="\\d"}', 5, 'unknown escape "\\d"'],
    ['x{a="open', 4, 'expected a closing " for the string starting here'],
    ['sum without (a) (x)', 4, '"by" ("without" is not supported)'],
    ['sum(x) without (a)', 7, '"by" ("without" is not supported)'],
    ['sum by (a) (x) by (b)', 15, 'expected an operator'],
    ['sum x', 4, 'expected "("'],
    ['sum(1)', 4, 'expected series (a vector), not a number'],
    ['histogram_quantile(x, y)', 19, 'expected a number (a scalar), not series'],
    ['histogram_quantile(0.9, 1)', 24, 'expected series (a vector)'],
    ['histogram_quantile(0.9)', 22, 'expected ","'],
    ['x or vector(0)', 2, 'expected an operator'],
    ['{__name__="x"}', 0, 'expected a number, a metric name'],
  ])('rejects %s at offset %i: %s', (text, offset, message) => {
    let error: unknown;
    try {
      parseExpression(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ExpressionSyntaxError);
    expect((error as ExpressionSyntaxError).offset).toBe(offset);
    expect((error as ExpressionSyntaxError).message).toContain(message);
  });
});

describe('metricNamesOf', () => {
  it.each([
    ['1 + 2', []],
    ['x', ['x']],
    ['sum(rate(a[5m])) / sum(rate(b[5m])) + sum(a)', ['a', 'b']],
    ['histogram_quantile(0.5, sum by (le) (increase(h_bucket)))', ['h_bucket']],
    ['-x * 2', ['x']],
  ])('names what %s reads', (text, names) => {
    expect(metricNamesOf(parseExpression(text))).toEqual(names);
  });
});
