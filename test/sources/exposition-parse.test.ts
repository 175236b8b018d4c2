import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExpositionParser, parseExposition, type Labels, type ParsedPage } from '../../src/sources/exposition/parse.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/exposition/${name}`, import.meta.url));

/** The kept series as plain `[labels, value]` pairs, by name, for comparisons. */
function pairs(page: ParsedPage): Record<string, [Labels, number][]> {
  const out: Record<string, [Labels, number][]> = {};
  for (const [name, samples] of page.series) out[name] = samples.labels.map((labels, i) => [labels, samples.values[i]!]);
  return out;
}

function single(line: string): { labels: Labels; value: number } {
  const page = parseExposition(`${line}\n`);
  expect(page.firstProblem).toBeUndefined();
  const samples = page.series.get('m')!;
  expect(samples.values).toHaveLength(1);
  return { labels: samples.labels[0]!, value: samples.values[0]! };
}

describe('parseExposition', () => {
  it('keeps only the wanted metrics, and reads HELP, TYPE and comments as nothing', () => {
    const page = parseExposition(fixture('app-1.prom'), ['http_requests_total', 'queue_depth']);
    expect(page.problems).toBe(0);
    expect([...page.series.keys()]).toEqual(['http_requests_total', 'queue_depth']);
    expect(pairs(page).queue_depth).toEqual([
      [{ queue: 'emails' }, 7],
      [{ queue: 'sms' }, NaN],
    ]);
    expect(pairs(page).http_requests_total?.[1]).toEqual([{ variant: 'canary', status: '500', method: 'GET' }, 10]);
    expect(page.lines).toBe(27);
  });

  it('keeps everything without a filter, and a metric seen again adds to its samples', () => {
    const page = parseExposition('a 1\nb{x="1"} 2\na{y="2"} 3\n');
    expect(pairs(page)).toEqual({ a: [[{}, 1], [{ y: '2' }, 3]], b: [[{ x: '1' }, 2]] });
  });

  it('reads escapes, blanks, trailing commas, timestamps, ±Inf and UTF-8', () => {
    const page = parseExposition(fixture('syntax.prom'), ['weird_total']);
    expect(page.firstProblem).toBeUndefined();
    expect(pairs(page).weird_total).toEqual([
      [{ path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' }, 1.458255915e9],
      [{ path: '/tmp' }, Infinity],
      [{ path: '/spaced', error: 'tabs\tand spaces' }, 3],
      [{}, -Infinity],
      [{ path: 'héllo ✓', error: 'ünïcode' }, 7],
      [{ path: '/no-blank-before-value' }, 8],
      [{ path: '/no-comma', error: 'x' }, 9],
    ]);
  });

  it.each([
    ['1', 1],
    ['0.1', 0.1],
    ['123.456', 123.456],
    ['5.', 5],
    ['.5', 0.5],
    ['-2', -2],
    ['+3', 3],
    ['1e3', 1000],
    ['1.5E-3', 0.0015],
    ['12345678901234567890', 12345678901234567890],
    ['0.12345678901234567890', 0.1234567890123456789],
    ['NaN', NaN],
    ['nan', NaN],
    ['+Inf', Infinity],
    ['Inf', Infinity],
    ['-Inf', -Infinity],
    ['-inf', -Infinity],
  ])('reads the value %s like Go ParseFloat', (text, expected) => {
    expect(single(`m ${text}`).value).toBe(expected);
  });

  it.each([
    ['m{a="x"} 1 1700000000000', { a: 'x' }, 1],
    ['m{a="x"} 2 0005', { a: 'x' }, 2],
    ['m 3 1700000000000  ', {}, 3],
    ['m{a="x",} 4', { a: 'x' }, 4],
    ['m{} 5', {}, 5],
    ['m\t{a="x"}\t6', { a: 'x' }, 6],
    ['m{a="",b="1"} 7', { b: '1' }, 7],
    ['m{a="bad \\q escape"} 7', { a: 'bad \\q escape' }, 7],
    ['m{"a.b"="1"} 7', { 'a.b': '1' }, 7],
    ['m{__proto__="x"} 7', JSON.parse('{"__proto__":"x"}') as Labels, 7],
    ['m{__meta="x"} 7', { __meta: 'x' }, 7],
    ['m{a="1" b="2"} 7', { a: '1', b: '2' }, 7],
    ['m{a="1"}7', { a: '1' }, 7],
    ['m{a="\\\\"} 8', { a: '\\' }, 8],
    ['m{a="\\"quoted\\""} 9', { a: '"quoted"' }, 9],
    ['m{a="two\\nlines"} 10', { a: 'two\nlines' }, 10],
    ['m{a="}{,=\\" "} 11', { a: '}{,=" ' }, 11],
    ['m{le="+Inf"} 12', { le: '+Inf' }, 12],
    ['m:recorded:rate5m{a_b="c"} 13', null, 13],
  ])('reads %s', (line, labels, value) => {
    const name = line.startsWith('m:') ? 'm:recorded:rate5m' : 'm';
    const page = parseExposition(line, [name]);
    expect(page.firstProblem).toBeUndefined();
    const samples = page.series.get(name)!;
    if (labels) expect(samples.labels).toEqual([labels]);
    expect(samples.values).toEqual([value]);
  });

  it.each([
    ['<html><body>Bad gateway</body></html>', 'expected a metric name, found "<html><body>Bad gate"'],
    ['m{a=1} 1', 'expected a quoted value for a, found "1} 1"'],
    ['m{a="1" 1', 'expected a label name, found "1"'],
    ['m{a="1"', 'expected a label name, found the end of the line'],
    ['m{a="unterminated} 1', 'the value of a has no closing quote'],
    ['m{a:b="1"} 1', 'expected "=" after a, found ":b=\\"1\\"} 1"'],
    ['m{1a="1"} 1', 'expected a label name, found "1a=\\"1\\"} 1"'],
    ['m{a="1",,b="2"} 1', 'expected a label name, found ",b=\\"2\\"} 1"'],
    ['m{a="1",a="2"} 1', 'm has a label name twice'],
    ['m{__name__="m"} 1', 'label name __name__ repeats the metric name'],
    ['m{"x"} 1', 'a second metric name inside the braces'],
    ['{a="1"} 1', 'no metric name inside the braces'],
    [' m 1', 'blanks before the metric name'],
    ['m', 'expected a value, found the end of the line'],
    ['m{a="1"}', 'expected a value, found the end of the line'],
    ['m 12abc', '"12abc" is not a number'],
    ['m 0x10', '"0x10" is not a number'],
    ['m 0b1', '"0b1" is not a number'],
    ['m \f1', '"\\f1" is not a number'],
    ['m 1_000', '"1_000" is not a number'],
    ['m 1\r', '"1\\r" is not a number'],
    ['m 1 -5', 'expected a timestamp (milliseconds) or the line\'s end, found "-5"'],
    ['m 1 2 3', 'expected a timestamp (milliseconds) or the line\'s end, found "2 3"'],
    ['m 1 soon', 'expected a timestamp (milliseconds) or the line\'s end, found "soon"'],
    ['# TYPE m gaugehistogram', 'unknown metric type "gaugehistogram" (expected one of counter, gauge, histogram, summary, untyped)'],
    ['# HELP ', 'expected a metric name after HELP, found the end of the line'],
  ])('reports the bad line %s and goes on', (garbage, message) => {
    const page = parseExposition(`m{ok="before"} 1\n${garbage}\nm{ok="after"} 2\n`, ['m']);
    expect(page.problems).toBe(1);
    expect(page.firstProblem).toEqual({ line: 2, message });
    expect(page.series.get('m')?.labels).toEqual([{ ok: 'before' }, { ok: 'after' }]);
  });

  it.each([
    ['a broken line', 'other{a=1 1'],
    ['a label name twice', 'other{a="1",a="2"} 1'],
    ['invalid UTF-8', 'other{a="\xbd"} 1'],
    ['a hexadecimal value', 'other 0x10'],
    ['a bad timestamp', 'other 1 1.5'],
  ])('checks the lines of metrics it does not keep: %s fails the page, as in a Prometheus scrape', (_, line) => {
    const page = parseExposition(Buffer.from(`m 1\n${line}\nm{a="2"} 2\n`, 'latin1'), ['m']);
    expect(page.problems).toBe(1);
    expect(page.firstProblem?.line).toBe(2);
  });

  // Unkept lines are read against the previous one too: labels shared byte for byte are not read again.
  it.each([
    ['a name twice after shared labels', ['o{a="1",b="2"} 1', 'o{a="1",b="2",a="3"} 2'], 2],
    ['invalid UTF-8 after a shared prefix', ['o{a="1",b="2"} 1', 'o{a="1",b="2\xbd"} 2'], 2],
    ['an unclosed value after a shared prefix', ['o{a="1"} 1', 'o{a="1",b="2} 2'], 2],
    ['a name twice two lines on', ['o{a="1",b="2"} 1', 'o{a="1",b="3"} 2', 'o{a="1",b="3",a="4"} 3'], 3],
    ['a bad line in between', ['o{a="1",b="2"} 1', 'o{a="1",b=2} 2', 'o{a="1",b="2",b="3"} 3'], 2, 2],
    ['a line bad after an empty value, then a name twice', ['o{a="1",b="2"} 1', 'o{a="1",b="",c=2} 2', 'o{a="1",b="2",b="3"} 3'], 2, 2],
  ])('checks unkept lines read against the previous one: %s', (_, lines, line, problems = 1) => {
    const page = parseExposition(Buffer.from(`${lines.join('\n')}\nm 1\n`, 'latin1'), ['m']);
    expect(page.firstProblem?.line).toBe(line);
    expect(page.problems).toBe(problems);
    expect(page.series.get('m')?.values).toEqual([1]);
  });

  it('checks the lines of unkept metrics without a name twice or an empty value dropping a name', () => {
    const page = parseExposition('other{a="1",b="",b="2"} 1\nother{a="1",b="",b="2",c="3"} 1\nother{a="1" , b="2",} 2\nother{a="1" , b="3",} 2\nm 1\n', ['m']);
    expect(page.problems).toBe(0);
  });

  it('keeps the first of a series written twice, whatever the order of its labels or its empty labels', () => {
    const page = parseExposition('m{a="1",b="2"} 1\nm{c="3"} 2\nm{b="2",a="1"} 3\nm{c="3",d=""} 4\nm 5\nm{e=""} 6\n');
    expect(pairs(page)).toEqual({ m: [[{ a: '1', b: '2' }, 1], [{ c: '3' }, 2], [{}, 5]] });
  });

  it('keeps at most maxSeries series, and says so', () => {
    const parser = new ExpositionParser(['m'], 2);
    parser.push('m{a="1"} 1\nother 1\nm{a="2"} 2\nm{a="3"} 3\n');
    const page = parser.end();
    expect(page.overflow).toBe(true);
    expect(page.series.get('m')?.values).toEqual([1, 2]);
    const under = new ExpositionParser(['m'], 3);
    under.push('m{a="1"} 1\nm{a="2"} 2\nm{a="3"} 3\n');
    expect(under.end().overflow).toBe(false);
  });

  it('tells a name from a longer name it starts', () => {
    const page = parseExposition('m_total 1\nm 2\nm{a="b"} 3\nm_bucket 4\n', ['m']);
    expect(page.series.get('m')?.values).toEqual([2, 3]);
  });

  it('refuses CRLF line ends, as Prometheus does, and reads a last line without a line end', () => {
    expect(parseExposition('# TYPE m gauge\r\nm{a="x"} 1\r\n', ['m']).problems).toBe(2);
    expect(pairs(parseExposition('m{a="x"} 1\nm{a="y"} 2', ['m'])).m).toEqual([
      [{ a: 'x' }, 1],
      [{ a: 'y' }, 2],
    ]);
  });

  // Lines are read against the previous one (shared leading labels are taken, not parsed) and
  // label values are reused by hash: neither may ever hand a line another line's labels.
  it.each([
    ['a value that only starts like the previous one', ['m{a="ab"} 1', 'm{a="abc"} 2', 'm{a="ab",b="1"} 3'], [{ a: 'ab' }, { a: 'abc' }, { a: 'ab', b: '1' }]],
    ['more, then fewer labels', ['m{a="x",b="1"} 1', 'm{a="x",b="1",c="2"} 2', 'm{a="x"} 3', 'm 4'], [{ a: 'x', b: '1' }, { a: 'x', b: '1', c: '2' }, { a: 'x' }, {}]],
    ['the same labels in another order, the first kept', ['m{a="1",b="2"} 1', 'm{b="2",a="1"} 2'], [{ a: '1', b: '2' }]],
    ['values whose hashes collide ("Aa", "BB")', ['m{x="1",a="Aa"} 1', 'm{x="2",a="BB"} 2', 'm{x="3",a="Aa"} 3'], [{ x: '1', a: 'Aa' }, { x: '2', a: 'BB' }, { x: '3', a: 'Aa' }]],
    ['an escaped value after a plain one', ['m{a="x\\\\y"} 1', 'm{a="x\\\\y",b="1"} 2', 'm{a="x\\"y"} 3'], [{ a: 'x\\y' }, { a: 'x\\y', b: '1' }, { a: 'x"y' }]],
    ['a non-ASCII value after an ASCII one', ['m{a="e"} 1', 'm{a="é"} 2', 'm{a="e",b="1"} 3'], [{ a: 'e' }, { a: 'é' }, { a: 'e', b: '1' }]],
    ['a bad line between good ones', ['m{a="x",b="1"} 1', 'm{a="x",b=2} 2', 'm{a="x",b="3"} 3'], [{ a: 'x', b: '1' }, { a: 'x', b: '3' }]],
    ['a line bad after its labels', ['m{a="x",b="1"} 1', 'm{a="y",b="2"} bad', 'm{a="x",b="3"} 3', 'm{a="y",b="2"} x', 'm 5'], [{ a: 'x', b: '1' }, { a: 'x', b: '3' }, {}]],
    ['an empty value before others', ['m{a="x",b="1"} 1', 'm{a="",b="2"} 2', 'm{a="x",b="3"} 3'], [{ a: 'x', b: '1' }, { b: '2' }, { a: 'x', b: '3' }]],
    ['no labels after labels', ['m{a="x"} 1', 'm 2', 'm{b="y"} 3', 'm{a="z"} 4'], [{ a: 'x' }, {}, { b: 'y' }, { a: 'z' }]],
    ['another kept metric in between', ['m{a="x"} 1', 'n{a="x"} 2', 'm{a="y"} 3'], [{ a: 'x' }, { a: 'y' }]],
    ['a quoted name between', ['m{a="x",b="1"} 1', '{"m",a="x",b="2"} 2', 'm{a="x",b="3"} 3'], [{ a: 'x', b: '1' }, { a: 'x', b: '2' }, { a: 'x', b: '3' }]],
  ])('gives each line its own labels: %s', (_, lines, expected) => {
    const page = parseExposition(lines.join('\n'), ['m', 'n']);
    expect(page.series.get('m')?.labels).toEqual(expected);
  });

  it('gives the same result however the page is cut into chunks, even inside a UTF-8 character', () => {
    const page = Buffer.concat([fixture('syntax.prom'), fixture('app-1.prom')]);
    const whole = pairs(parseExposition(page));
    for (let cut = 1; cut < page.length; cut++) {
      const parser = new ExpositionParser();
      parser.push(page.subarray(0, cut));
      parser.push(page.subarray(cut));
      expect(pairs(parser.end()), `cut at byte ${cut}`).toEqual(whole);
    }
    const dripped = new ExpositionParser();
    for (let i = 0; i < page.length; i++) dripped.push(page.subarray(i, i + 1));
    expect(pairs(dripped.end())).toEqual(whole);
  });

  it('reads strings and buffers alike', () => {
    const text = fixture('app-2.prom').toString('utf8');
    expect(pairs(parseExposition(text))).toEqual(pairs(parseExposition(Buffer.from(text))));
  });

  it('does not keep the caller\'s buffer: a chunk may be reused once pushed', () => {
    const parser = new ExpositionParser(['m']);
    const chunk = Buffer.from('m{a="first"} 1\nm{a="sec');
    parser.push(chunk);
    chunk.fill(0x20);
    parser.push('ond"} 2\n');
    expect(parser.end().series.get('m')?.labels).toEqual([{ a: 'first' }, { a: 'second' }]);
  });
});
