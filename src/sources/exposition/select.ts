/**
 * Selecting series: the rows of a metric's samples whose labels pass a selector's matchers. Each
 * matcher decides each distinct label value once (a page repeats its values across many series,
 * and a regex is the costly part), and a selection is remembered for the samples it was made from.
 */
import type { Samples } from './series.js';
import type { Matcher, Selector } from './promql.js';

/**
 * Rows of a store of series (a metric's, as the page's parser kept them, or a computed result's),
 * each with its value. Selecting and pairing keep the page's rows, so no labels are copied.
 */
export interface Vector {
  series: Samples;
  /** Each sample's row of `series`. */
  rows: number[];
  values: number[];
}

/**
 * The selections made from each metric's series, by selector as written: a page's series do not
 * change, and the expressions of a poll repeat selectors.
 */
const selections = new WeakMap<Samples, Map<string, Vector>>();

/** The rows of `samples`, the series of metric `selector.name`, that the selector matches. */
export function selectRows(selector: Selector, samples: Samples): Vector {
  let byText = selections.get(samples);
  if (byText === undefined) selections.set(samples, (byText = new Map()));
  let selected = byText.get(selector.text);
  if (selected === undefined) {
    selected = { series: samples, rows: [], values: [] };
    // A matcher on __name__ reads the selector's metric name, the same for every row.
    const byName = selector.matchers.filter((m) => m.label === '__name__');
    if (byName.every((m) => matches(m, selector.name))) {
      passing(samples, selector.matchers.filter((m) => m.label !== '__name__'), selected.rows, selected.values);
    }
    byText.set(selector.text, selected);
  }
  return selected;
}

/*
 * The loops below, over a metric's series, touch only arrays, typed arrays and the scrape's own
 * objects, never an object made for the evaluation: V8 discards code optimized for a kind of
 * object (hidden class) of which no object survives a garbage collection, as one poll's objects
 * do not, and a loop that starts unoptimized is several times slower (see `keepClassWarm`).
 */

/** Appends to `rows` and `values` the rows of `series` that pass the matchers; a missing label is "". */
function passing(series: Samples, matchers: readonly Matcher[], rows: number[], values: number[]): void {
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
 * has no such label; returns the schema.
 */
export function locate(series: Samples, row: number, names: readonly number[], positions: number[]): number {
  const schema = series.schemaAt(row);
  const schemaNames = series.table.schemas[schema]!;
  for (let k = 0; k < names.length; k++) positions[k] = schemaNames.indexOf(names[k]!);
  return schema;
}

function matches(matcher: Matcher, value: string): boolean {
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return matcher.regex!.matches(value);
    case '!~':
      return !matcher.regex!.matches(value);
  }
}
