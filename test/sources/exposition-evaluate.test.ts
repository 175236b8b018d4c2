import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateExpression } from '../../src/sources/exposition/evaluate.js';
import { ScrapeHistory, type Scrape } from '../../src/sources/exposition/history.js';
import { parseExposition } from '../../src/sources/exposition/parse.js';
import { parseExpression, rangeFunctionsOf } from '../../src/sources/exposition/promql.js';
import { NoDataError } from '../../src/sources/source.js';

const T0 = Date.UTC(2025, 0, 1);

function scrapeOf(page: string | Buffer, timestamp: number): Scrape {
  const parsed = parseExposition(page);
  expect(parsed.firstProblem).toBeUndefined();
  return { timestamp, series: parsed.series };
}

const fixture = (name: string) => readFileSync(new URL(`../fixtures/exposition/${name}`, import.meta.url));
// The fixture pages, a minute apart (see the comment atop app-2.prom).
const first = scrapeOf(fixture('app-1.prom'), T0);
const second = scrapeOf(fixture('app-2.prom'), T0 + 60_000);

interface Scrapes {
  current: Scrape;
  previous: Scrape | undefined;
}
const minute: Scrapes = { current: second, previous: first };
const only = (current: Scrape): Scrapes => ({ current, previous: undefined });

/** The history a source would have kept for `expr` after these earlier scrapes. */
function historyOf(expr: string, ...scrapes: Scrape[]): ScrapeHistory {
  const functions = rangeFunctionsOf(parseExpression(expr));
  let history = ScrapeHistory.start();
  for (const scrape of scrapes) history = history.add(history.keep(scrape, functions), functions);
  return history;
}

const value = (expr: string, { current, previous } = minute) =>
  evaluateExpression(parseExpression(expr), current, historyOf(expr, ...(previous ? [previous] : [])));

function noData(expr: string, scrapes = minute): string {
  try {
    value(expr, scrapes);
  } catch (err) {
    if (err instanceof NoDataError) return err.reason;
    throw err;
  }
  throw new Error(`${expr} read a value`);
}

describe('evaluateExpression', () => {
  it.each([
    // Label matchers, all four, and an absent label matching as "".
    ['sum(http_requests_total{variant="canary"})', 1540 + 70 + 5 + 3],
    ['sum(http_requests_total{variant!="canary"})', 300 + 1 + 20],
    ['sum(http_requests_total{status=~"5.."})', 70 + 5 + 1],
    ['sum(http_requests_total{status!~"5..",variant="canary"})', 1540 + 3],
    ['sum(http_requests_total{status=~"5"})', null],
    ['sum(http_requests_total{missing=""})', 1540 + 70 + 5 + 3 + 300 + 1 + 20],
    ['sum(http_requests_total{missing!=""})', null],
    ['sum(http_requests_total{missing=~".*",method="POST"})', 5 + 20],
    ['process_open_fds', 40],
    ['queue_depth{queue="emails"}', 3],
    // increase: per series, a new series skipped, a lower value (restart) counting from zero.
    ['sum(increase(http_requests_total{variant="canary"}))', 540 + 60 + 0],
    ['sum(increase(http_requests_total{variant="stable"}))', 300 + 1 + 20],
    ['sum(increase(http_requests_total{variant="canary",status=~"5.."})) / sum(increase(http_requests_total{variant="canary"}))', 60 / 600],
    ['sum(rate(http_requests_total{variant="canary"}[5m]))', 600 / 60],
    ['sum by (variant) (increase(http_requests_total{status="500"})) / 2', null],
    ['sum(increase(process_open_fds))', 40],
    // Arithmetic: precedence, scalars, scalar and vector, vector and vector with the same labels.
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3 - 4 / 2', 7],
    ['-process_open_fds + 50', 10],
    ['100 * sum(increase(http_requests_total{status="500"})) / sum(increase(http_requests_total))', (100 * 61) / 921],
    ['sum by (variant) (http_requests_total{variant="canary"}) - sum by (variant) (http_requests_total{variant="canary",status="200"})', 78],
    ['sum(http_request_duration_seconds_sum{variant="canary"}) / sum(http_request_duration_seconds_count{variant="canary"})', 222 / 550],
    // histogram_quantile over the minute's increase: buckets 0.1:10 0.5:30 1:45 +Inf:50.
    ['histogram_quantile(0.1, sum by (le) (increase(http_request_duration_seconds_bucket{variant="canary"})))', 0.05],
    ['histogram_quantile(0.5, sum by (le) (increase(http_request_duration_seconds_bucket{variant="canary"})))', 0.1 + 0.4 * (15 / 20)],
    ['histogram_quantile(0.9, sum by (le) (increase(http_request_duration_seconds_bucket{variant="canary"})))', 1],
    ['histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{variant="canary"}[5m])))', 1],
    ['histogram_quantile(0.5, http_request_duration_seconds_bucket{variant="canary"})', 0.4],
    ['histogram_quantile(0.5, http_request_duration_seconds_bucket{variant="stable"})', 0.05],
  ])('%s = %s', (expr, expected) => {
    if (expected === null) expect(() => value(expr)).toThrow(NoDataError);
    else expect(value(expr)).toBeCloseTo(expected, 12);
  });

  it.each([
    // buckets (le: count) → the quantile, computed by hand as Prometheus does.
    ['q=0.5 in the first bucket, which starts at 0', 0.5, { '1': 10, '2': 10, '+Inf': 10 }, 0.5],
    ['q=0.75: the rank (30) ends the bucket (1, 2]', 0.75, { '1': 10, '2': 30, '4': 40, '+Inf': 40 }, 2],
    ['q=0.8 interpolated', 0.8, { '1': 10, '2': 30, '4': 40, '+Inf': 40 }, 2 + (4 - 2) * ((32 - 30) / 10)],
    ['the rank in +Inf gives the highest finite bound', 0.99, { '0.5': 10, '1': 20, '+Inf': 100 }, 1],
    ['a negative first bound is returned as is', 0.1, { '-1': 5, '0': 10, '+Inf': 10 }, -1],
    ['equal bounds written apart are one bucket', 0.5, { '1': 2, '1.0': 2, '2': 8, '+Inf': 8 }, 1],
    ['a lagging bucket is raised to the one before', 0.5, { '1': 4, '2': 2, '3': 8, '+Inf': 8 }, 1],
    ['"Inf" and "+inf" are +Inf too', 0.5, { '1': 5, '2': 10, inf: 10 }, 1],
  ])('histogram_quantile: %s', (_, q, buckets, expected) => {
    const page = Object.entries(buckets).map(([le, count]) => `h_bucket{le="${le}"} ${count}`).join('\n');
    expect(value(`histogram_quantile(${q}, h_bucket)`, only(scrapeOf(page, T0)))).toBeCloseTo(expected, 12);
  });

  it.each([
    ['no +Inf bucket', 'h_bucket{le="1"} 5\nh_bucket{le="2"} 10', 0.5, 'result is NaN (a histogram has no le="+Inf" bucket)'],
    ['no observations', 'h_bucket{le="1"} 0\nh_bucket{le="+Inf"} 0', 0.5, 'result is NaN (a histogram has no observations)'],
    ['only the +Inf bucket', 'h_bucket{le="+Inf"} 3', 0.5, 'result is NaN (a histogram has only the +Inf bucket)'],
    ['no le label', 'h_bucket{x="1"} 3', 0.5, 'empty result (a series without a valid "le" label was ignored)'],
    ['q above 1', 'h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1', 1.5, 'result is +Inf'],
    ['q below 0', 'h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1', -0.5, 'result is -Inf'],
  ])('histogram_quantile with %s is nodata', (_, page, q, reason) => {
    expect(noData(`histogram_quantile(${q}, h_bucket)`, only(scrapeOf(page, T0)))).toBe(reason);
  });

  it('gives one quantile per histogram, so two need a sum by (le)', () => {
    expect(noData('histogram_quantile(0.5, http_request_duration_seconds_bucket)')).toBe('expression returned 2 series; wrap it in sum()');
  });

  it.each([
    ['increase(http_requests_total)', 'warming up: needs a second scrape'],
    ['sum(rate(http_requests_total[5m]))', 'warming up: needs a second scrape'],
    ['histogram_quantile(0.5, sum by (le) (increase(http_request_duration_seconds_bucket)))', 'warming up: needs a second scrape'],
    ['process_open_fds - sum(increase(http_requests_total))', 'warming up: needs a second scrape'],
  ])('the first scrape alone cannot give %s', (expr, reason) => {
    expect(noData(expr, only(first))).toBe(reason);
  });

  it('reads what needs no earlier scrape from the first one', () => {
    expect(value('sum(http_requests_total{variant="canary"})', only(first))).toBe(1015);
  });

  it.each([
    ['http_requests_total', 'expression returned 7 series; wrap it in sum()'],
    ['sum by (variant) (http_requests_total)', 'expression returned 2 series; wrap it in sum()'],
    ['sum(nothing_total)', 'empty result (no series named nothing_total on the page)'],
    ['sum(http_requests_total{variant="blue"})', 'empty result (no series match http_requests_total{variant="blue"})'],
    [
      'sum(increase(http_requests_total{status="404"}))',
      'empty result (no series of http_requests_total{status="404"} is in both scrapes)',
    ],
    ['queue_depth{queue="sms"}', 'result is NaN'],
    ['1 / 0', 'result is +Inf (division by zero)'],
    ['-1 / 0', 'result is -Inf (division by zero)'],
    [
      'sum(increase(http_requests_total{variant="canary",status="503"})) / sum(increase(http_requests_total{variant="canary",status="503"}))',
      'result is NaN (division of zero by zero: no traffic?)',
    ],
    [
      'sum by (variant) (http_requests_total{variant="canary"}) / sum by (variant) (http_requests_total{variant="stable"})',
      'empty result (no series on the left of "/" has the same labels as one on the right)',
    ],
  ])('%s is nodata: %s', (expr, reason) => {
    expect(noData(expr)).toBe(reason);
  });

  it('cannot take a rate between scrapes taken at the same time', () => {
    expect(noData('sum(rate(http_requests_total[1m]))', { current: second, previous: { ...first, timestamp: second.timestamp } })).toBe(
      'warming up: needs a second scrape',
    );
  });

  // Issue 16, items 1 to 5, on the lines of its report.
  it.each([
    ['RE2 POSIX class', 'h{code="200"} 1\nh{code="404"} 1', 'sum(h{code!~"[[:digit:]]00"})', 1],
    ['RE2 flags', 'h{m="GET"} 1\nh{m="post"} 2', 'sum(h{m=~"(?i)get|POST"})', 3],
    ['a bucket bound Go does not read is no bucket', 'b_bucket{le="0x10"} 5\nb_bucket{le="1"} 2\nb_bucket{le="+Inf"} 10', 'histogram_quantile(0.5, b_bucket)', 1],
    ['a hexadecimal bound Go reads', 'b_bucket{le="0x1p4"} 5\nb_bucket{le="+Inf"} 10', 'histogram_quantile(0.5, b_bucket)', 16],
    ['a bound with an underscore, as Go reads it', 'b_bucket{le="1_0"} 5\nb_bucket{le="+Inf"} 10', 'histogram_quantile(0.25, b_bucket)', 5],
    ['the first of a series written twice', 'd 1\nd 3', 'sum(d)', 1],
    ['an empty label as no label', 'x{a="",b="1"} 1\ny{b="1"} 2', 'x / y', 0.5],
    ['a __-prefixed label as any label', 'u{__x="1"} 3\nu{__x="2"} 4', 'sum(u{__x="1"})', 3],
    ['__name__ as the metric name', 'u 3', 'sum(u{__name__="u"}) + sum(u{__name__=~"u|v"})', 6],
  ])('reads %s as Prometheus does', (_, page, expr, expected) => {
    expect(value(expr, only(scrapeOf(page, T0)))).toBe(expected);
  });

  it('reads no series for a __name__ matcher the name fails', () => {
    expect(noData('sum(u{__name__!="u"})', only(scrapeOf('u 3', T0)))).toBe('empty result (no series match u{__name__!="u"})');
  });

  // Issue 16, item 8: the range picks the earlier scrape; none fresh enough reads no data.
  describe('the window of increase() and rate()', () => {
    const at = (seconds: number, total: number) => scrapeOf(`c ${total}`, T0 + seconds * 1000);
    const history = (expr: string, ...scrapes: Scrape[]) => historyOf(expr, ...scrapes);
    const read = (expr: string, now: Scrape, earlier: ScrapeHistory) => evaluateExpression(parseExpression(expr), now, earlier);

    it('compares with the kept scrape closest to the range ago', () => {
      const expr = 'sum(rate(c[30s]))';
      const kept = history(expr, at(0, 0), at(10, 100), at(20, 300), at(30, 600));
      // Now 40: 30 s ago is the scrape at 10 (total 100); the rate over 30 s is (1000 - 100) / 30.
      expect(read(expr, at(40, 1000), kept)).toBeCloseTo(900 / 30, 12);
      expect(read('sum(rate(c[10s]))', at(40, 1000), history('sum(rate(c[10s]))', at(0, 0), at(30, 600)))).toBeCloseTo(40, 12);
    });

    it('gives increase over a range as the rate times the range, as PromQL does', () => {
      const expr = 'sum(increase(c[1m]))';
      expect(read(expr, at(50, 500), history(expr, at(0, 0)))).toBeCloseTo(600, 12);
      expect(read('sum(increase(c))', at(50, 500), history('sum(increase(c))', at(0, 0)))).toBe(500);
    });

    it('reads no data when no kept scrape is fresh enough, never a longer window', () => {
      const expr = 'sum(rate(c[30s]))';
      expect(() => read(expr, at(86_400, 1e6), history(expr, at(0, 0)))).toThrow('warming up: no scrape of the last 45s for a 30s range (the last is 1d old)');
      expect(() => read('sum(rate(c))', at(86_400, 1e6), history('sum(rate(c))', at(0, 0)))).toThrow(
        'warming up: the last scrape is 1d old; increase() and rate() without a range compare with one at most 2m old',
      );
      expect(read(expr, at(45, 450), history(expr, at(0, 0)))).toBe(10);
    });

    it('keeps what the next poll can use: the longest range and a half, thinned to a few spread over it', () => {
      const expr = 'sum(rate(c[1m])) + sum(rate(c[10s]))';
      const kept = history(expr, ...Array.from({ length: 20 }, (_, i) => at(i * 10, i)));
      const ages = kept.scrapes.map((s) => 190 - (s.timestamp - T0) / 1000);
      expect(ages.length).toBeLessThanOrEqual(5);
      expect(ages.at(-1)).toBe(0);
      expect(Math.max(...ages)).toBeLessThanOrEqual(90);
      expect(Math.max(...ages)).toBeGreaterThanOrEqual(60);
      expect(history('sum(increase(c))', at(0, 0), at(10, 1), at(20, 2)).scrapes.map((s) => s.timestamp)).toEqual([T0 + 20_000]);
    });
  });

  it('does not take members every object has for labels', () => {
    const scrape = scrapeOf('o{a="1"} 1\no{constructor="x"} 2', T0);
    expect(value('sum(o{constructor=""})', only(scrape))).toBe(1);
    expect(value('sum by (constructor) (o{constructor="x"})', only(scrape))).toBe(2);
    expect(noData('sum(o{toString=~".+"})', only(scrape))).toBe('empty result (no series match o{toString=~".+"})');
  });

  it('matches series across scrapes by their labels, whatever their order on the page', () => {
    const before = scrapeOf('c{a="1",b="x"} 10\nc{a="2",b="x"} 20', T0);
    const after = scrapeOf('c{b="x",a="2"} 25\nc{b="x",a="1"} 11', T0 + 10_000);
    expect(value('sum(increase(c{a="2"}))', { current: after, previous: before })).toBe(5);
    expect(value('sum(rate(c))', { current: after, previous: before })).toBeCloseTo(0.6, 12);
  });
});
