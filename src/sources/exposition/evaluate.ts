/**
 * Evaluates a parsed expression of the PromQL subset against the current scrape and the one
 * before it. Pure: two scrapes in, one number out, or `NoDataError` saying why there is none.
 *
 * Semantics follow PromQL where the subset overlaps it: a selector yields labelled samples (the
 * metric name dropped, as after any function); increase/rate pair each series with the same
 * labels in the previous scrape (a lower value means the counter restarted, so the increase is
 * the current value; a series new since then is skipped); sum adds up per `by` group;
 * arithmetic works between numbers, a number and samples, or samples with the same labels.
 * Unlike Prometheus, increase is the plain difference of the two scrapes, not extrapolated.
 */
import { NoDataError } from '../source.js';
import type { Labels, Samples, SeriesByName } from './parse.js';
import type { BinaryOp, Expr, Matcher, Selector } from './promql.js';

/** One scrape of a page: when it was taken (ms since the epoch) and the series kept from it. */
export interface Scrape {
  timestamp: number;
  series: SeriesByName;
}

type Value = { type: 'scalar'; value: number } | { type: 'vector'; samples: Samples };

/** What evaluation needs besides the expression, and what it noticed that may explain a bad result. */
interface Context {
  current: Scrape;
  previous: Scrape | undefined;
  notes: Set<string>;
}

/**
 * The expression's value now. The result must be one number: a scalar, or exactly one sample;
 * none, several, NaN or ±Inf throw `NoDataError` with the reason.
 */
export function evaluateExpression(expr: Expr, current: Scrape, previous: Scrape | undefined): number {
  if (previous === undefined && readsPrevious(expr)) throw new NoDataError('warming up: needs a second scrape');
  const context: Context = { current, previous, notes: new Set() };
  const result = evaluate(expr, context);
  let value: number;
  if (result.type === 'scalar') value = result.value;
  else if (result.samples.values.length === 1) value = result.samples.values[0]!;
  else if (result.samples.values.length === 0) throw new NoDataError(`empty result${explained(context)}`);
  else throw new NoDataError(`expression returned ${result.samples.values.length} series; wrap it in sum()`);
  if (Number.isNaN(value)) throw new NoDataError(`result is NaN${explained(context)}`);
  if (!Number.isFinite(value)) throw new NoDataError(`result is ${value > 0 ? '+Inf' : '-Inf'}${explained(context)}`);
  return value;
}

function readsPrevious(expr: Expr): boolean {
  switch (expr.kind) {
    case 'increase':
    case 'rate':
      return true;
    case 'sum':
      return readsPrevious(expr.expr);
    case 'histogram_quantile':
      return readsPrevious(expr.quantile) || readsPrevious(expr.expr);
    case 'binary':
      return readsPrevious(expr.left) || readsPrevious(expr.right);
    default:
      return false;
  }
}

function explained(context: Context): string {
  return context.notes.size === 0 ? '' : ` (${[...context.notes].join('; ')})`;
}

function evaluate(expr: Expr, context: Context): Value {
  switch (expr.kind) {
    case 'number':
      return { type: 'scalar', value: expr.value };
    case 'selector':
      return vector(select(expr, context.current, context));
    case 'increase':
    case 'rate':
      return vector(increase(expr.selector, expr.kind === 'rate', context));
    case 'sum':
      return vector(sum(samplesOf(evaluate(expr.expr, context)), expr.by));
    case 'histogram_quantile':
      return vector(histogramQuantile(scalarOf(evaluate(expr.quantile, context)), samplesOf(evaluate(expr.expr, context)), context));
    case 'binary':
      return binary(expr.op, evaluate(expr.left, context), evaluate(expr.right, context), context);
  }
}

function vector(samples: Samples): Value {
  return { type: 'vector', samples };
}

// The parser checks argument types, so a mismatch here is a bug, not a user error.
function samplesOf(value: Value): Samples {
  if (value.type !== 'vector') throw new Error('expected a vector');
  return value.samples;
}

function scalarOf(value: Value): number {
  if (value.type !== 'scalar') throw new Error('expected a scalar');
  return value.value;
}

function emptySamples(): Samples {
  return { labels: [], values: [] };
}

/** The series of `scrape` the selector matches; with `context`, an empty match is noted there. */
function select(selector: Selector, scrape: Scrape, context?: Context): Samples {
  const all = scrape.series.get(selector.name);
  let selected = all ?? emptySamples();
  if (all && selector.matchers.length > 0) {
    selected = emptySamples();
    for (let i = 0; i < all.labels.length; i++) {
      const labels = all.labels[i]!;
      if (matchesAll(selector.matchers, labels)) {
        selected.labels.push(labels);
        selected.values.push(all.values[i]!);
      }
    }
  }
  if (context && selected.values.length === 0) {
    context.notes.add(all ? `no series match ${selector.text}` : `no series named ${selector.name} on the page`);
  }
  return selected;
}

/**
 * A label's value, '' when the series does not have it (PromQL treats both alike). The type check
 * keeps inherited members such as `constructor` from passing for a label.
 */
function labelOf(labels: Labels, name: string): string {
  const value = labels[name];
  return typeof value === 'string' ? value : '';
}

function matchesAll(matchers: readonly Matcher[], labels: Labels): boolean {
  for (const matcher of matchers) {
    const value = labelOf(labels, matcher.label);
    switch (matcher.op) {
      case '=':
        if (value !== matcher.value) return false;
        break;
      case '!=':
        if (value === matcher.value) return false;
        break;
      case '=~':
        if (!matcher.regex!.test(value)) return false;
        break;
      case '!~':
        if (matcher.regex!.test(value)) return false;
        break;
    }
  }
  return true;
}

function increase(selector: Selector, perSecond: boolean, context: Context): Samples {
  const previous = context.previous!;
  const seconds = (context.current.timestamp - previous.timestamp) / 1000;
  if (perSecond && !(seconds > 0)) {
    throw new NoDataError(`the previous scrape is not older than this one (${seconds} s apart): cannot compute a rate`);
  }
  const now = select(selector, context.current, context);
  const before = select(selector, previous);
  const earlier = pairSeries(now, before);
  const result = emptySamples();
  for (let i = 0; i < now.labels.length; i++) {
    const labels = now.labels[i]!;
    const last = earlier(i);
    if (last === undefined) continue;
    const value = now.values[i]!;
    const delta = value >= last ? value - last : value;
    result.labels.push(labels);
    result.values.push(perSecond ? delta / seconds : delta);
  }
  if (result.values.length === 0 && now.values.length > 0) context.notes.add(`no series of ${selector.text} is in both scrapes`);
  return result;
}

/**
 * For each series of `now` by index, the value of the series with the same labels in `before`.
 * A page lists its series in the same order scrape after scrape, so the next series of `before`
 * is tried first; only when it is another series are all of `before` indexed by their labels.
 */
function pairSeries(now: Samples, before: Samples): (index: number) => number | undefined {
  let next = 0;
  let byKey: Map<string, number> | undefined;
  return (index) => {
    const labels = now.labels[index]!;
    const candidate = before.labels[next];
    if (candidate !== undefined && sameLabels(labels, candidate)) return before.values[next++];
    if (byKey === undefined) {
      byKey = new Map();
      for (let i = 0; i < before.labels.length; i++) byKey.set(seriesKey(before.labels[i]!), i);
    }
    const found = byKey.get(seriesKey(labels));
    if (found === undefined) return undefined;
    next = found + 1;
    return before.values[found];
  };
}

function sameLabels(a: Labels, b: Labels): boolean {
  let count = 0;
  for (const name in a) {
    if (a[name] !== b[name]) return false;
    count++;
  }
  for (const _ in b) count--;
  return count === 0;
}

/**
 * A series' identity: its labels in name order. Each value is length-prefixed, so no value can
 * pose as a boundary (names cannot hold "=").
 */
function seriesKey(labels: Labels): string {
  const names = Object.keys(labels);
  if (!isSorted(names)) names.sort();
  let key = '';
  for (const name of names) {
    const value = labels[name]!;
    key += `${name}=${value.length}:${value},`;
  }
  return key;
}

function isSorted(names: string[]): boolean {
  for (let i = 1; i < names.length; i++) if (names[i - 1]! > names[i]!) return false;
  return true;
}

function sum(samples: Samples, by: string[] | undefined): Samples {
  if (samples.values.length === 0) return samples;
  const groups = new Map<string, number>();
  const result = emptySamples();
  for (let i = 0; i < samples.values.length; i++) {
    const labels = samples.labels[i]!;
    const key = by ? groupKey(labels, by) : '';
    const index = groups.get(key);
    if (index === undefined) {
      groups.set(key, result.values.length);
      result.labels.push(by ? groupLabels(labels, by) : {});
      result.values.push(samples.values[i]!);
    } else {
      result.values[index]! += samples.values[i]!;
    }
  }
  return result;
}

function groupKey(labels: Labels, by: readonly string[]): string {
  let key = '';
  for (const name of by) {
    const value = labelOf(labels, name);
    key += `${value.length}:${value},`;
  }
  return key;
}

/** The `by` labels a series has (an empty value counts as absent, as in PromQL). */
function groupLabels(labels: Labels, by: readonly string[]): Labels {
  const group: Labels = {};
  for (const name of by) {
    const value = labelOf(labels, name);
    if (value) group[name] = value;
  }
  return group;
}

interface Bucket {
  upperBound: number;
  count: number;
}

/** Per histogram (the series grouped by their labels other than `le`), the q-quantile of its buckets. */
function histogramQuantile(q: number, samples: Samples, context: Context): Samples {
  const histograms = new Map<string, { labels: Labels; buckets: Bucket[] }>();
  for (let i = 0; i < samples.values.length; i++) {
    const { le, ...labels } = samples.labels[i]!;
    const upperBound = le === undefined ? NaN : parseBound(le);
    if (Number.isNaN(upperBound)) {
      context.notes.add('a series without a valid "le" label was ignored');
      continue;
    }
    const key = seriesKey(labels);
    let histogram = histograms.get(key);
    if (!histogram) histograms.set(key, (histogram = { labels, buckets: [] }));
    histogram.buckets.push({ upperBound, count: samples.values[i]! });
  }
  const result = emptySamples();
  for (const { labels, buckets } of histograms.values()) {
    result.labels.push(labels);
    result.values.push(bucketQuantile(q, buckets, context));
  }
  return result;
}

// Bounds are Go floats: "+Inf" is how clients write the last one.
function parseBound(le: string): number {
  if (/^\+?inf$/i.test(le)) return Infinity;
  return le.trim() === '' ? NaN : Number(le);
}

/**
 * Prometheus's bucketQuantile: linear interpolation within the bucket the rank falls in, the
 * first bucket starting at 0, and the highest finite bound when the rank falls in +Inf's.
 */
function bucketQuantile(q: number, unsorted: Bucket[], context: Context): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const buckets = coalesce(unsorted.sort((a, b) => a.upperBound - b.upperBound));
  if (buckets.at(-1)?.upperBound !== Infinity) {
    context.notes.add('a histogram has no le="+Inf" bucket');
    return NaN;
  }
  // Scrapes are not atomic: a later bucket can lag an earlier one; counts are cumulative.
  for (let i = 1; i < buckets.length; i++) buckets[i]!.count = Math.max(buckets[i]!.count, buckets[i - 1]!.count);
  if (buckets.length < 2) {
    context.notes.add('a histogram has only the +Inf bucket');
    return NaN;
  }
  const observations = buckets.at(-1)!.count;
  if (observations === 0) {
    context.notes.add('a histogram has no observations');
    return NaN;
  }
  let rank = q * observations;
  const b = buckets.findIndex((bucket) => bucket.count >= rank);
  if (b === buckets.length - 1) return buckets[b - 1]!.upperBound;
  const bucket = buckets[b]!;
  if (b === 0 && bucket.upperBound <= 0) return bucket.upperBound;
  let start = 0;
  let count = bucket.count;
  if (b > 0) {
    const below = buckets[b - 1]!;
    start = below.upperBound;
    count -= below.count;
    rank -= below.count;
  }
  return start + (bucket.upperBound - start) * (rank / count);
}

/** Buckets with the same bound (e.g. "1" and "1.0") are one. */
function coalesce(sorted: Bucket[]): Bucket[] {
  const merged: Bucket[] = [];
  for (const bucket of sorted) {
    const last = merged.at(-1);
    if (last && last.upperBound === bucket.upperBound) last.count += bucket.count;
    else merged.push({ ...bucket });
  }
  return merged;
}

function binary(op: BinaryOp, left: Value, right: Value, context: Context): Value {
  if (left.type === 'scalar' && right.type === 'scalar') return { type: 'scalar', value: apply(op, left.value, right.value, context) };
  if (left.type === 'scalar') return vector(mapValues(samplesOf(right), (value) => apply(op, left.value, value, context)));
  if (right.type === 'scalar') return vector(mapValues(left.samples, (value) => apply(op, value, right.value, context)));
  // One-to-one matching: each left sample pairs with the right one that has the same labels.
  const rightByKey = new Map<string, number>();
  for (let i = 0; i < right.samples.labels.length; i++) rightByKey.set(seriesKey(right.samples.labels[i]!), right.samples.values[i]!);
  const result = emptySamples();
  for (let i = 0; i < left.samples.labels.length; i++) {
    const labels = left.samples.labels[i]!;
    const other = rightByKey.get(seriesKey(labels));
    if (other === undefined) continue;
    result.labels.push(labels);
    result.values.push(apply(op, left.samples.values[i]!, other, context));
  }
  if (result.values.length === 0 && left.samples.values.length > 0 && right.samples.values.length > 0) {
    context.notes.add(`no series on the left of "${op}" has the same labels as one on the right`);
  }
  return vector(result);
}

function mapValues(samples: Samples, map: (value: number) => number): Samples {
  return { labels: samples.labels, values: samples.values.map(map) };
}

function apply(op: BinaryOp, a: number, b: number, context: Context): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      if (b === 0) context.notes.add(a === 0 ? 'division of zero by zero: no traffic?' : 'division by zero');
      return a / b;
  }
}
