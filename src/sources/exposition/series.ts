/**
 * How kept series are held: in columns of integers, their labels as ids into one table of the
 * page's strings, rather than an object per series. A page repeats a few hundred label names and
 * values across tens of thousands of series, so a series costs a few bytes a label rather than an
 * object, and matching, pairing and grouping series compare integers. Label objects are only
 * built when asked for.
 */

/** A series' labels (without the metric name), as written on the page. */
export type Labels = Record<string, string>;

/**
 * The label names and values of one page, each string stored once and known by its index, its
 * id: within a table, equal strings have equal ids. So are the lists of label names series have
 * (their schemas), which a page repeats as much as its values.
 */
export class LabelTable {
  /** The id of "", the first string of every table: a label with this value is no label in PromQL. */
  static readonly EMPTY = 0;
  /** Strings by id. */
  readonly strings: string[] = [];
  /** Each schema's label names, as ids, in the order the page wrote them. */
  readonly schemas: number[][] = [];
  /** By schema: whether no name is in it twice, so that its positions are its labels one to one. */
  readonly uniqueNames: boolean[] = [];
  private readonly ids = new Map<string, number>();
  private readonly schemaIds = new Map<string, number>();

  constructor() {
    this.intern('');
  }

  /** The id of `text`, added if it is new. */
  intern(text: string): number {
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.strings.push(text) - 1;
      this.ids.set(text, id);
    }
    return id;
  }

  /** The id of `text`, or -1 if the page has no such label name or value. */
  find(text: string): number {
    return this.ids.get(text) ?? -1;
  }

  /** Whether schema `schema` is the first `count` of `names` (ids). */
  schemaIs(schema: number, names: readonly number[], count: number): boolean {
    const known = this.schemas[schema]!;
    if (known.length !== count) return false;
    for (let i = 0; i < count; i++) if (known[i] !== names[i]) return false;
    return true;
  }

  /** The id of the schema of the first `count` of `names` (ids), added if it is new. */
  schema(names: readonly number[], count: number): number {
    const list = names.slice(0, count);
    const key = list.join();
    let id = this.schemaIds.get(key);
    if (id === undefined) {
      id = this.schemas.push(list) - 1;
      this.uniqueNames.push(new Set(list).size === count);
      this.schemaIds.set(key, id);
    }
    return id;
  }
}

/**
 * The series of one metric, one per row: `values[row]`, and labels held as ids. Rows are laid out
 * back to back in `cells`: the schema's id, then the id of each label's value in schema order.
 * The columns are private fields, so the samples still compare and serialize as
 * `{ labels, values }`.
 */
export class Samples {
  /** Each row's value: a number array holds doubles unboxed. */
  readonly values: number[] = [];
  /**
   * Every row's labels, built afresh at each read (for tests and for saving a scrape): reading a
   * row's labels is `labelsAt`, and evaluation reads ids instead.
   */
  declare readonly labels: Labels[];
  readonly #table: LabelTable;
  /** Where each row starts in `cells`. */
  #starts: Int32Array = EMPTY;
  #cells: Int32Array = EMPTY;
  /**
   * The cells while rows are added, until `seal` packs them: blocks of number arrays, never
   * copied as they grow (a growing typed array is, its old copies being memory outside the heap
   * that V8 frees late), and small enough to be short-lived heap objects, gone at the first
   * collection after `seal`.
   */
  #blocks: number[][] | undefined = [[]];

  constructor(table: LabelTable) {
    this.#table = table;
    // An own enumerable property, unlike a getter on the class, so it is compared and serialized.
    // The getter is one function for all: V8 gives objects with other accessors other maps.
    Object.defineProperty(this, 'labels', { enumerable: true, get: allLabels });
  }

  /** Samples from label objects and their values (a saved scrape, a computed result). */
  static from(labels: readonly Labels[], values: readonly number[]): Samples {
    const table = new LabelTable();
    const samples = new Samples(table);
    const names: number[] = [];
    const ids: number[] = [];
    labels.forEach((series, row) => {
      const entries = Object.entries(series);
      entries.forEach(([name, value], i) => {
        names[i] = table.intern(name);
        ids[i] = table.intern(value);
      });
      samples.push(table.schema(names, entries.length), ids, values[row]!);
    });
    samples.seal();
    return samples;
  }

  /** The table the rows' ids refer to. */
  get table(): LabelTable {
    return this.#table;
  }

  /** Adds a row: its schema, the ids of its label values (as many as the schema has names), its value. */
  push(schema: number, valueIds: readonly number[], value: number): void {
    const blocks = this.#blocks!;
    let block = blocks[blocks.length - 1]!;
    if (block.length >= BLOCK) blocks.push((block = []));
    const count = this.#table.schemas[schema]!.length;
    block.push(schema);
    for (let i = 0; i < count; i++) block.push(valueIds[i]!);
    this.values.push(value);
  }

  /**
   * Packs the columns once every row is added: rows are read only after. With
   * `firstOfEachSeries`, a row with the labels of an earlier row is dropped (label order aside).
   */
  seal(options: { firstOfEachSeries?: boolean } = {}): void {
    const blocks = this.#blocks;
    if (blocks === undefined) return;
    const cells = new Int32Array(blocks.reduce((total, block) => total + block.length, 0));
    let at = 0;
    for (const block of blocks) {
      cells.set(block, at);
      at += block.length;
    }
    const starts = new Int32Array(this.values.length);
    const schemas = this.#table.schemas;
    at = 0;
    for (let row = 0; row < starts.length; row++) {
      starts[row] = at;
      at += 1 + schemas[cells[at]!]!.length;
    }
    this.#cells = cells;
    this.#starts = starts;
    this.#blocks = undefined;
    if (options.firstOfEachSeries) this.dropRepeatedSeries();
  }

  /** Drops each row whose labels an earlier row has; rows are found by a hash of their label set. */
  private dropRepeatedSeries(): void {
    const rows = this.values.length;
    if (rows < 2) return;
    const mask = (1 << Math.ceil(Math.log2(rows * 2))) - 1;
    const slots = new Int32Array(mask + 1).fill(-1);
    const hashes = new Int32Array(rows);
    const dropped = new Uint8Array(rows);
    let drops = 0;
    for (let row = 0; row < rows; row++) {
      const hash = this.labelSetHash(row);
      hashes[row] = hash;
      let slot = hash & mask;
      for (let other = slots[slot]!; other >= 0; other = slots[slot]!) {
        if (hashes[other] === hash && this.sameLabelSet(row, other)) {
          dropped[row] = 1;
          drops++;
          break;
        }
        slot = (slot + 1) & mask;
      }
      if (!dropped[row]) slots[slot] = row;
    }
    if (drops > 0) this.keepRows(dropped);
  }

  /** A hash of a row's labels that does not depend on their order: a sum of one hash per label. */
  private labelSetHash(row: number): number {
    const names = this.#table.schemas[this.schemaAt(row)]!;
    let hash = names.length;
    for (let i = 0; i < names.length; i++) {
      let h = Math.imul(names[i]! ^ 0x5bd1e995, 0x9e3779b1) ^ this.valueAt(row, i);
      h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
      hash = (hash + (h ^ (h >>> 13))) | 0;
    }
    return hash;
  }

  private sameLabelSet(a: number, b: number): boolean {
    const schemas = this.#table.schemas;
    const namesA = schemas[this.schemaAt(a)]!;
    const namesB = schemas[this.schemaAt(b)]!;
    if (namesA.length !== namesB.length) return false;
    for (let i = 0; i < namesA.length; i++) {
      const j = namesA === namesB ? i : namesB.indexOf(namesA[i]!);
      if (j < 0 || this.valueAt(a, i) !== this.valueAt(b, j)) return false;
    }
    return true;
  }

  /** Repacks the columns without the rows marked in `dropped`. */
  private keepRows(dropped: Uint8Array): void {
    const schemas = this.#table.schemas;
    const cells: number[] = [];
    const starts: number[] = [];
    const values: number[] = [];
    for (let row = 0; row < dropped.length; row++) {
      if (dropped[row]) continue;
      starts.push(cells.length);
      const start = this.#starts[row]!;
      const count = 1 + schemas[this.#cells[start]!]!.length;
      for (let i = 0; i < count; i++) cells.push(this.#cells[start + i]!);
      values.push(this.values[row]!);
    }
    this.#cells = Int32Array.from(cells);
    this.#starts = Int32Array.from(starts);
    this.values.length = 0;
    for (const value of values) this.values.push(value);
  }

  /**
   * Where each row starts in `cells`: for loops over many rows, which read the columns directly
   * rather than through `schemaAt` and `valueAt` for each.
   */
  get starts(): Int32Array {
    return this.#starts;
  }

  /** The rows back to back, each its schema then the ids of its label values (see `starts`). */
  get cells(): Int32Array {
    return this.#cells;
  }

  /** The schema of a row's labels. */
  schemaAt(row: number): number {
    return this.#cells[this.#starts[row]!]!;
  }

  /** The id of the value of a row's label at `position` of its schema. */
  valueAt(row: number, position: number): number {
    return this.#cells[this.#starts[row]! + 1 + position]!;
  }

  /** A row's labels as an object, in page order; without a prototype, so any name is a plain key. */
  labelsAt(row: number): Labels {
    const { strings, schemas } = this.#table;
    const names = schemas[this.schemaAt(row)]!;
    const labels: Labels = Object.create(null) as Labels;
    for (let i = 0; i < names.length; i++) labels[strings[names[i]!]!] = strings[this.valueAt(row, i)]!;
    return labels;
  }
}

function allLabels(this: Samples): Labels[] {
  return this.values.map((_, row) => this.labelsAt(row));
}

const EMPTY = new Int32Array(0);

/** Cells per block: 64 KiB of number array, under the size V8 gives its own space to. */
const BLOCK = 8192;

/** See `keepClassWarm`. */
const warmInstances = new Set<object>();

/**
 * Keeps `instance` alive for the life of the process, so that code V8 optimized for its class
 * stays. V8 keeps a class's optimized code only while some object of the class survives each
 * garbage collection; a page's parser does not outlive its poll, and without one kept every poll
 * after a collection would read its page with freshly unoptimized code (a 100k-series page: 65
 * against 21 ms).
 */
export function keepClassWarm(instance: object): void {
  warmInstances.add(instance);
}
