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
import { Samples, type Labels, type SeriesByName } from './parse.js';
import type { BinaryOp, Expr, Matcher, Selector } from './promql.js';

/**
 * One scrape of a page: when it was taken (ms since the epoch) and the series kept from it. Not
 * changed once made: what is computed from a scrape, or a pair of them, is remembered for the
 * next expression evaluated on it.
 */
export interface Scrape {
  timestamp: number;
  series: SeriesByName;
}

/**
 * Samples mid-evaluation: rows of a store of series (a metric's, as the page's parser kept them,
 * or a computed result's), each with its value. Selecting and pairing keep the page's rows, so no
 * labels are copied or built for them; only grouping makes new series, few of them.
 */
interface Vector {
  series: Samples;
  /** Each sample's row of `series`. */
  rows: number[];
  values: number[];
}

type Value = { type: 'scalar'; value: number } | { type: 'vector'; vector: Vector };

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
  else if (result.vector.values.length === 1) value = result.vector.values[0]!;
  else if (result.vector.values.length === 0) throw new NoDataError(`empty result${explained(context)}`);
  else throw new NoDataError(`expression returned ${result.vector.values.length} series; wrap it in sum()`);
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
      return vector(remembered(`${expr.kind} ${expr.selector.text}`, context, () => increase(expr.selector, expr.kind === 'rate', context)));
    case 'sum':
      return vector(sum(vectorOf(evaluate(expr.expr, context)), expr.by));
    case 'histogram_quantile':
      return vector(histogramQuantile(scalarOf(evaluate(expr.quantile, context)), vectorOf(evaluate(expr.expr, context)), context));
    case 'binary':
      return binary(expr.op, evaluate(expr.left, context), evaluate(expr.right, context), context);
  }
}

/**
 * By current scrape, for the previous one it was paired with: the increases and rates computed
 * from the pair, with the notes made computing them. A poll evaluates all its expressions on one
 * pair, and plans repeat a rate across expressions (a ratio's denominator and the traffic count,
 * a metric and its baseline).
 */
const computedFrom = new WeakMap<Scrape, { previous: Scrape | undefined; results: Map<string, { vector: Vector; notes: string[] }> }>();

/** `compute()`'s result, or the one remembered for `key` from the same pair of scrapes. */
function remembered(key: string, context: Context, compute: () => Vector): Vector {
  let pair = computedFrom.get(context.current);
  if (pair === undefined || pair.previous !== context.previous) {
    pair = { previous: context.previous, results: new Map() };
    computedFrom.set(context.current, pair);
  }
  let result = pair.results.get(key);
  if (result === undefined) {
    const notes = context.notes;
    context.notes = new Set();
    try {
      result = { vector: compute(), notes: [...context.notes] };
    } finally {
      context.notes = notes;
    }
    pair.results.set(key, result);
  }
  for (const note of result.notes) context.notes.add(note);
  return result.vector;
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

/**
 * The selections made from each metric's series, by selector as written: a page's series do not
 * change, and the scrape that is current in one poll is the previous one in the next, where the
 * same expressions select from it again.
 */
const selections = new WeakMap<Samples, Map<string, Vector>>();

/** The series of `scrape` the selector matches; with `context`, an empty match is noted there. */
function select(selector: Selector, scrape: Scrape, context?: Context): Vector {
  const all = scrape.series.get(selector.name);
  let selected = all && selections.get(all)?.get(selector.text);
  if (selected === undefined) {
    selected = { series: all ?? Samples.from([], []), rows: [], values: [] };
    if (all) {
      selectRows(all, selector.matchers, selected.rows, selected.values);
      if (!selections.has(all)) selections.set(all, new Map());
      selections.get(all)!.set(selector.text, selected);
    }
  }
  if (context && selected.values.length === 0) {
    context.notes.add(all ? `no series match ${selector.text}` : `no series named ${selector.name} on the page`);
  }
  return selected;
}

/*
 * The loops below, over a metric's series, touch only arrays, typed arrays and the scrape's own
 * objects, never an object made for the evaluation: V8 discards code optimized for a kind of
 * object (hidden class) of which no object survives a garbage collection, as one poll's objects
 * do not, and a loop that starts unoptimized is several times slower (see `keepClassWarm`).
 */

/**
 * Appends to `rows` and `values` the rows of `series` that pass the matchers. Each matcher decides
 * each distinct value once (a page repeats its values across many series, and a regex is the
 * costly part); a row without the label is matched as "", as PromQL does.
 */
function selectRows(series: Samples, matchers: readonly Matcher[], rows: number[], values: number[]): void {
  const { strings } = series.table;
  const names = matchers.map((m) => series.table.find(m.label));
  const positions = names.map(() => -1);
  const passesAbsent = matchers.map((m) => matches(m, ''));
  /** By matcher, by value id: UNDECIDED, PASSES or FAILS. */
  const verdicts = matchers.map(() => new Uint8Array(strings.length));
  const { starts, cells, values: all } = series;
  let schema = -1;
  next: for (let row = 0; row < starts.length; row++) {
    const start = starts[row]!;
    if (cells[start] !== schema) schema = locate(series, row, names, positions);
    for (let m = 0; m < positions.length; m++) {
      const position = positions[m]!;
      if (position < 0) {
        if (passesAbsent[m]) continue;
        continue next;
      }
      const id = cells[start + 1 + position]!;
      const decided = verdicts[m]!;
      if (decided[id] === UNDECIDED) decided[id] = matches(matchers[m]!, strings[id]!) ? PASSES : FAILS;
      if (decided[id] === FAILS) continue next;
    }
    rows.push(row);
    values.push(all[row]!);
  }
}

const UNDECIDED = 0;
const PASSES = 1;
const FAILS = 2;

/**
 * Sets `positions[k]` to the position of label `names[k]` (an id) in the schema of `row`, -1 if it
 * has no such label; returns the schema. A name written twice on a line counts at its last place,
 * as in an object of the labels.
 */
function locate(series: Samples, row: number, names: readonly number[], positions: number[]): number {
  const schema = series.schemaAt(row);
  const schemaNames = series.table.schemas[schema]!;
  for (let k = 0; k < names.length; k++) positions[k] = schemaNames.lastIndexOf(names[k]!);
  return schema;
}

function matches(matcher: Matcher, value: string): boolean {
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return matcher.regex!.test(value);
    case '!~':
      return !matcher.regex!.test(value);
  }
}

function increase(selector: Selector, perSecond: boolean, context: Context): Vector {
  const previous = context.previous!;
  const seconds = (context.current.timestamp - previous.timestamp) / 1000;
  if (perSecond && !(seconds > 0)) {
    throw new NoDataError(`the previous scrape is not older than this one (${seconds} s apart): cannot compute a rate`);
  }
  const now = select(selector, context.current, context);
  const before = select(selector, previous);
  const earlier = pairSeries(now.series, now.rows, before.series, before.rows);
  const { rows: nowRows, values: nowValues } = now;
  const beforeValues = before.values;
  const rows: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < nowValues.length; i++) {
    if (earlier[i]! < 0) continue;
    const last = beforeValues[earlier[i]!]!;
    const value = nowValues[i]!;
    const delta = value >= last ? value - last : value;
    rows.push(nowRows[i]!);
    values.push(perSecond ? delta / seconds : delta);
  }
  if (values.length === 0 && nowValues.length > 0) context.notes.add(`no series of ${selector.text} is in both scrapes`);
  return { series: now.series, rows, values };
}

/**
 * For each of the rows `nowRows` of `now`, the index in `beforeRows` of the row of `before` with the
 * same labels, or -1. A page lists its series in the same order scrape after scrape, so the next
 * row of `before` is tried first; only when it is another series are all of `before` indexed by
 * their labels.
 *
 * The two stores have tables of their own (two scrapes): an id of `now` is translated into
 * `before`'s once, so rows with the same label names in the same order compare as integers. Rows
 * with names in another order, or a name twice, compare as objects.
 */
function pairSeries(now: Samples, nowRows: readonly number[], before: Samples, beforeRows: readonly number[]): Int32Array {
  const ids = new Int32Array(now.table.strings.length).fill(NOT_LOOKED_UP);
  const schemas = new Int32Array(now.table.schemas.length).fill(NOT_LOOKED_UP);
  const paired = new Int32Array(nowRows.length);
  let next = 0;
  let byKey: Map<string, number> | undefined;
  for (let i = 0; i < nowRows.length; i++) {
    const row = nowRows[i]!;
    if (next < beforeRows.length && sameSeries(now, row, before, beforeRows[next]!, ids, schemas)) {
      paired[i] = next++;
      continue;
    }
    if (byKey === undefined) {
      byKey = new Map();
      for (let j = 0; j < beforeRows.length; j++) byKey.set(seriesKey(before.labelsAt(beforeRows[j]!)), j);
    }
    const found = byKey.get(seriesKey(now.labelsAt(row)));
    paired[i] = found ?? -1;
    if (found !== undefined) next = found + 1;
  }
  return paired;
}

/**
 * Whether row `row` of `now` and row `rowBefore` of `before` have the same labels; `ids` and
 * `schemas` translate `now`'s ids into `before`'s as they are looked up (see pairSeries).
 */
function sameSeries(now: Samples, row: number, before: Samples, rowBefore: number, ids: Int32Array, schemas: Int32Array): boolean {
  const nowCells = now.cells;
  const beforeCells = before.cells;
  const at = now.starts[row]!;
  const atBefore = before.starts[rowBefore]!;
  const schema = beforeCells[atBefore]!;
  const nowSchema = nowCells[at]!;
  if (schemas[nowSchema] === NOT_LOOKED_UP) {
    schemas[nowSchema] = before.table.findSchema(now.table.schemas[nowSchema]!.map((id) => now.table.strings[id]!));
  }
  if (schemas[nowSchema] !== schema || !before.table.uniqueNames[schema]) return sameLabels(now.labelsAt(row), before.labelsAt(rowBefore));
  const count = before.table.schemas[schema]!.length;
  for (let i = 1; i <= count; i++) {
    const id = nowCells[at + i]!;
    if (ids[id] === NOT_LOOKED_UP) ids[id] = before.table.find(now.table.strings[id]!);
    if (ids[id] !== beforeCells[atBefore + i]) return false;
  }
  return true;
}

/** In pairSeries's translation tables: an id or schema not looked up in the other table yet. */
const NOT_LOOKED_UP = -2;

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
    const group: Labels = {};
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
