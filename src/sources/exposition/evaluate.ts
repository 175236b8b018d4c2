/**
 * Evaluates a parsed expression of the PromQL subset against the current scrape and the kept
 * earlier ones. Pure: scrapes in, one number out, or `NoDataError` saying why there is none.
 *
 * Semantics follow PromQL where the subset overlaps it: a selector yields labelled samples (the
 * metric name dropped, as after any function); increase/rate pair each series with the same
 * labels in the earlier scrape their range picks (history.ts; a lower value means the counter
 * restarted, so the increase is the current value; a series new since then is skipped); sum adds
 * up per `by` group; arithmetic works between numbers, a number and samples, or samples with the
 * same labels. Unlike Prometheus, a rate is the plain difference of two scrapes over the time
 * between them, not extrapolated; increase over a range is that rate times the range
 * (docs/exposition.md).
 */
import { NoDataError } from '../source.js';
import { parseGoFloat } from './float.js';
import { keptValue, type KeptScrape, type Scrape, type ScrapeHistory } from './history.js';
import { Samples, type Labels } from './parse.js';
import type { BinaryOp, Expr, RangeFunction, Selector } from './promql.js';
import { locate, selectRows, type Vector } from './select.js';

export type { Scrape } from './history.js';

type Value = { type: 'scalar'; value: number } | { type: 'vector'; vector: Vector };

/** What evaluation needs besides the expression, and what it noticed that may explain a bad result. */
interface Context {
  current: Scrape;
  history: ScrapeHistory;
  notes: Set<string>;
}

/**
 * The expression's value now. The result must be one number: a scalar, or exactly one sample;
 * none, several, NaN or ±Inf throw `NoDataError` with the reason.
 */
export function evaluateExpression(expr: Expr, current: Scrape, history: ScrapeHistory): number {
  const context: Context = { current, history, notes: new Set() };
  const result = evaluate(expr, context);
  let value: number;
  if (result.type === 'scalar') value = result.value;
  else if (result.vector.values.length === 1) value = result.vector.values[0]!;
  else if (result.vector.values.length === 0) throw new NoDataError(`empty result${explained(context)}`);
  else throw new NoDataError(`expression returned ${result.vector.values.length} series; wrap it in sum()`);
  if (Number.isNaN(value)) throw new NoDataError(`result is NaN${explained(context)}`);
  if (!Number.isFinite(value)) throw new NoDataError(`result is ${value > 0 ? '+Inf' : '-Inf'}${explained(context)}`);
  return value;
}

function explained(context: Context): string {
  return context.notes.size === 0 ? '' : ` (${[...context.notes].join('; ')})`;
}

function evaluate(expr: Expr, context: Context): Value {
  switch (expr.kind) {
    case 'number':
      return { type: 'scalar', value: expr.value };
    case 'selector':
      return vector(select(expr, context));
    case 'increase':
    case 'rate':
      return vector(increase(expr, context));
    case 'sum':
      return vector(sum(vectorOf(evaluate(expr.expr, context)), expr.by));
    case 'histogram_quantile':
      return vector(histogramQuantile(scalarOf(evaluate(expr.quantile, context)), vectorOf(evaluate(expr.expr, context)), context));
    case 'binary':
      return binary(expr.op, evaluate(expr.left, context), evaluate(expr.right, context), context);
  }
}

function vector(samples: Vector): Value {
  return { type: 'vector', vector: samples };
}

// The parser checks argument types, so a mismatch here is a bug, not a user error.
function vectorOf(value: Value): Vector {
  if (value.type !== 'vector') throw new Error('expected a vector');
  return value.vector;
}

function scalarOf(value: Value): number {
  if (value.type !== 'scalar') throw new Error('expected a scalar');
  return value.value;
}

/** New series with these labels and values, each its own row. */
function computed(labels: readonly Labels[], values: readonly number[]): Vector {
  const series = Samples.from(labels, values);
  return { series, rows: series.values.map((_, row) => row), values: series.values };
}

/** The series of the current scrape the selector matches; none is noted, for the reason. */
function select(selector: Selector, context: Context): Vector {
  const all = context.current.series.get(selector.name);
  const selected = all ? selectRows(selector, all) : { series: Samples.from([], []), rows: [], values: [] };
  if (selected.values.length === 0) context.notes.add(all ? `no series match ${selector.text}` : `no series named ${selector.name} on the page`);
  return selected;
}

/**
 * By current scrape, by the kept scrape it was compared with: the increases and rates computed,
 * with the notes made computing them. A poll evaluates all its expressions on one scrape, and
 * plans repeat a rate across expressions (a ratio's denominator and the traffic count, a metric
 * and its baseline).
 */
const computedFrom = new WeakMap<Scrape, WeakMap<KeptScrape, Map<string, { vector: Vector; notes: string[] }>>>();

/**
 * increase() or rate() of each selected series since the kept scrape the range picks. Over an
 * explicit range, increase is the rate times the range, as in PromQL.
 */
function increase(f: RangeFunction, context: Context): Vector {
  const { current, history } = context;
  const baseline = history.baseline(current.timestamp, f.rangeMs);
  if (typeof baseline === 'string') throw new NoDataError(baseline);
  let byBaseline = computedFrom.get(current);
  if (byBaseline === undefined) computedFrom.set(current, (byBaseline = new WeakMap()));
  let results = byBaseline.get(baseline);
  if (results === undefined) byBaseline.set(baseline, (results = new Map()));
  const key = `${f.kind} ${f.selector.text} ${f.rangeMs}`;
  let result = results.get(key);
  if (result === undefined) {
    const notes = context.notes;
    context.notes = new Set();
    try {
      result = { vector: compareWith(baseline, f, context), notes: [...context.notes] };
    } finally {
      context.notes = notes;
    }
    results.set(key, result);
  }
  for (const note of result.notes) context.notes.add(note);
  return result.vector;
}

function compareWith(baseline: KeptScrape, f: RangeFunction, context: Context): Vector {
  const seconds = (context.current.timestamp - baseline.timestamp) / 1000;
  const now = select(f.selector, context);
  const kept = baseline.series.get(f.selector.name);
  const keys = context.history.identity.keysOf(now.series, now.rows);
  const scale = f.kind === 'rate' ? 1 / seconds : f.rangeMs === undefined ? 1 : f.rangeMs / 1000 / seconds;
  const rows: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < now.values.length; i++) {
    const last = kept && keptValue(kept, keys[i]!);
    if (last === undefined) continue;
    const value = now.values[i]!;
    rows.push(now.rows[i]!);
    values.push((value >= last ? value - last : value) * scale);
  }
  if (values.length === 0 && now.values.length > 0) context.notes.add(`no series of ${f.selector.text} is in both scrapes`);
  return { series: now.series, rows, values };
}

/**
 * A series' identity: its labels in name order. Each value is length-prefixed, so no value can
 * pose as a boundary (names cannot hold "=").
 */
function seriesKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  let key = '';
  for (const name of names) {
    const value = labels[name]!;
    key += `${name.length}:${name}=${value.length}:${value},`;
  }
  return key;
}

/**
 * Adds up the samples per group of equal `by` label values (a missing label counts as ""), each
 * group labelled with its non-empty `by` labels, in the order groups first appear.
 */
function sum(samples: Vector, by: readonly string[] = []): Vector {
  if (samples.values.length === 0) return samples;
  const { series, rows, values } = samples;
  const firsts: number[] = [];
  const groups = groupRows(series, rows, by, firsts);
  const sums = firsts.map((first) => values[first]!);
  for (let i = 0; i < values.length; i++) if (firsts[groups[i]!] !== i) sums[groups[i]!]! += values[i]!;
  const names = by.map((name) => series.table.find(name));
  const positions = names.map(() => -1);
  const labels = firsts.map((first) => {
    locate(series, rows[first]!, names, positions);
    const group: Labels = Object.create(null) as Labels;
    by.forEach((name, k) => {
      const value = positions[k]! < 0 ? '' : series.table.strings[series.valueAt(rows[first]!, positions[k]!)]!;
      if (value) group[name] = value;
    });
    return group;
  });
  return computed(labels, sums);
}

/**
 * The group of each of `rows` by its `by` label values, groups numbered in the order they first
 * appear; `firsts` gets each group's first index in `rows`. Equal values have equal ids, and a
 * missing label is as "" (its id, or -1 if no label has that value), so ids make the key.
 */
function groupRows(series: Samples, rows: readonly number[], by: readonly string[], firsts: number[]): Int32Array {
  const names = by.map((name) => series.table.find(name));
  const positions = names.map(() => -1);
  const empty = series.table.find('');
  const groupOf = new Map<number | string, number>();
  const groups = new Int32Array(rows.length);
  const ids: number[] = [];
  const { starts, cells } = series;
  let schema = -1;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const start = starts[row]!;
    if (cells[start] !== schema) schema = locate(series, row, names, positions);
    for (let k = 0; k < positions.length; k++) ids[k] = positions[k]! < 0 ? empty : cells[start + 1 + positions[k]!]!;
    // One label (`by (le)`, say) is keyed by its id as is, sparing a string per sample.
    const key = ids.length === 1 ? ids[0]! : ids.join();
    let group = groupOf.get(key);
    if (group === undefined) {
      group = firsts.push(i) - 1;
      groupOf.set(key, group);
    }
    groups[i] = group;
  }
  return groups;
}

interface Bucket {
  upperBound: number;
  count: number;
}

/** Per histogram (the series grouped by their labels other than `le`), the q-quantile of its buckets. */
function histogramQuantile(q: number, samples: Vector, context: Context): Vector {
  const histograms = new Map<string, { labels: Labels; buckets: Bucket[] }>();
  for (let i = 0; i < samples.values.length; i++) {
    const { le, ...labels } = samples.series.labelsAt(samples.rows[i]!);
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
  const labels: Labels[] = [];
  const quantiles: number[] = [];
  for (const histogram of histograms.values()) {
    labels.push(histogram.labels);
    quantiles.push(bucketQuantile(q, histogram.buckets, context));
  }
  return computed(labels, quantiles);
}

/** A bucket's bound as histogram_quantile reads `le`: Go's ParseFloat; NaN (ignored) where it fails. */
function parseBound(le: string): number {
  return parseGoFloat(le) ?? NaN;
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
  if (left.type === 'scalar') return vector(mapValues(vectorOf(right), (value) => apply(op, left.value, value, context)));
  if (right.type === 'scalar') return vector(mapValues(left.vector, (value) => apply(op, value, right.value, context)));
  // One-to-one matching: each left sample pairs with the right one that has the same labels.
  const { series, rows, values } = left.vector;
  const rightByKey = new Map<string, number>();
  for (let i = 0; i < right.vector.rows.length; i++) {
    rightByKey.set(seriesKey(right.vector.series.labelsAt(right.vector.rows[i]!)), right.vector.values[i]!);
  }
  const result: Vector = { series, rows: [], values: [] };
  for (let i = 0; i < rows.length; i++) {
    const other = rightByKey.get(seriesKey(series.labelsAt(rows[i]!)));
    if (other === undefined) continue;
    result.rows.push(rows[i]!);
    result.values.push(apply(op, values[i]!, other, context));
  }
  if (result.values.length === 0 && values.length > 0 && right.vector.values.length > 0) {
    context.notes.add(`no series on the left of "${op}" has the same labels as one on the right`);
  }
  return vector(result);
}

function mapValues(samples: Vector, map: (value: number) => number): Vector {
  return { series: samples.series, rows: samples.rows, values: samples.values.map(map) };
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
