/**
 * The earlier scrapes an exposition source keeps for increase() and rate(), and which one a range
 * compares with (docs/exposition.md):
 *
 * - `rate(x[30s])`: the kept scrape whose age is closest to 30 s, among those at most 1.5 × 30 s
 *   old; none that fresh reads no data ("warming up"), never a longer window.
 * - `increase(x)`, no range: the previous scrape, if at most DEFAULT_MAX_AGE_MS old.
 *
 * Only what the next poll can use is kept: scrapes younger than the longest range × 1.5, thinned
 * to MAX_KEPT_SCRAPES spread over that span; of each, only the series the plan's increase() and
 * rate() select, each as a key (identity.ts) and a value.
 */
import { randomBytes } from 'node:crypto';
import { formatDuration } from '../../plan/duration.js';
import { SeriesIdentity } from './identity.js';
import type { SeriesByName } from './parse.js';
import type { RangeFunction } from './promql.js';
import { selectRows } from './select.js';

/** One scrape of a page: when it was taken (ms since the epoch) and the series kept from it. */
export interface Scrape {
  timestamp: number;
  series: SeriesByName;
}

/** An earlier scrape as kept: by metric name, the selected series' keys and values. */
export interface KeptScrape {
  timestamp: number;
  series: Map<string, KeptSeries>;
}

/** One metric's kept series: `values[i]` is the value of the series with key `keys[i]`. */
export interface KeptSeries {
  keys: Float64Array;
  values: Float64Array;
}

/** How old the previous scrape may be for increase() and rate() without a range: four default polls. */
const DEFAULT_MAX_AGE_MS = 2 * 60_000;

/** A range's scrape may be this much older than the range (polls are not exactly a range apart). */
const RANGE_SLACK = 1.5;

/** Scrapes kept at most, the newest included: each can hold as many series as a page (MAX_SERIES). */
const MAX_KEPT_SCRAPES = 5;

/** A source's earlier scrapes, oldest first, and the identity that made their keys. */
export class ScrapeHistory {
  constructor(
    readonly identity: SeriesIdentity,
    /** Random bytes that make this history's keys; saved with it. */
    readonly salt: Buffer,
    readonly scrapes: readonly KeptScrape[],
  ) {}

  /** A history with no scrape yet, and a fresh salt. */
  static start(): ScrapeHistory {
    const salt = randomBytes(16);
    return new ScrapeHistory(new SeriesIdentity(salt), salt, []);
  }

  /** The kept scrape increase()/rate() over `rangeMs` compares a scrape at `now` with, or why there is none. */
  baseline(now: number, rangeMs: number | undefined): KeptScrape | string {
    const earlier = this.scrapes.filter((scrape) => scrape.timestamp < now);
    const newest = earlier.at(-1);
    if (newest === undefined) return 'warming up: needs a second scrape';
    const newestAge = formatDuration(now - newest.timestamp);
    if (rangeMs === undefined) {
      if (now - newest.timestamp <= DEFAULT_MAX_AGE_MS) return newest;
      return `warming up: the last scrape is ${newestAge} old; increase() and rate() without a range compare with one at most ${formatDuration(DEFAULT_MAX_AGE_MS)} old`;
    }
    const maxAge = rangeMs * RANGE_SLACK;
    let best: KeptScrape | undefined;
    for (const scrape of earlier) {
      const age = now - scrape.timestamp;
      if (age <= maxAge && (best === undefined || Math.abs(age - rangeMs) < Math.abs(now - best.timestamp - rangeMs))) best = scrape;
    }
    return best ?? `warming up: no scrape of the last ${formatDuration(maxAge)} for a ${formatDuration(rangeMs)} range (the last is ${newestAge} old)`;
  }

  /** `scrape` as kept: the series `functions` select, by key. */
  keep(scrape: Scrape, functions: readonly RangeFunction[]): KeptScrape {
    const series = new Map<string, KeptSeries>();
    for (const name of new Set(functions.map((f) => f.selector.name))) {
      const samples = scrape.series.get(name);
      if (samples === undefined) continue;
      const selected = new Uint8Array(samples.values.length);
      for (const f of functions) if (f.selector.name === name) for (const row of selectRows(f.selector, samples).rows) selected[row] = 1;
      const rows: number[] = [];
      for (let row = 0; row < selected.length; row++) if (selected[row]) rows.push(row);
      const values = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) values[i] = samples.values[rows[i]!]!;
      series.set(name, { keys: this.identity.keysOf(samples, rows), values });
    }
    return { timestamp: scrape.timestamp, series };
  }

  /** This history with `kept` added, less what no later poll can use (see the module comment). */
  add(kept: KeptScrape, functions: readonly RangeFunction[]): ScrapeHistory {
    const horizon = Math.max(0, ...functions.map((f) => (f.rangeMs ?? 0) * RANGE_SLACK));
    const scrapes = this.scrapes.filter((s) => s.timestamp < kept.timestamp && kept.timestamp - s.timestamp <= horizon);
    scrapes.push(kept);
    // Thinned where scrapes are closest together: what is left stays spread over the horizon.
    while (scrapes.length > MAX_KEPT_SCRAPES) {
      let drop = 1;
      for (let i = 2; i < scrapes.length - 1; i++) {
        if (scrapes[i + 1]!.timestamp - scrapes[i - 1]!.timestamp < scrapes[drop + 1]!.timestamp - scrapes[drop - 1]!.timestamp) drop = i;
      }
      scrapes.splice(drop, 1);
    }
    return new ScrapeHistory(this.identity, this.salt, scrapes);
  }
}

/** By kept series, a hash table of its keys (open addressing; each slot an index + 1, 0 empty). */
const indexes = new WeakMap<KeptSeries, Int32Array>();

/** The kept value of the series with `key`, or undefined if it was not on the page. */
export function keptValue(series: KeptSeries, key: number): number | undefined {
  const { keys } = series;
  let slots = indexes.get(series);
  if (slots === undefined) {
    slots = new Int32Array(2 ** Math.ceil(Math.log2(2 * keys.length + 2)));
    for (let i = 0; i < keys.length; i++) {
      let slot = slotOf(keys[i]!, slots.length);
      while (slots[slot] !== 0) slot = (slot + 1) & (slots.length - 1);
      slots[slot] = i + 1;
    }
    indexes.set(series, slots);
  }
  for (let slot = slotOf(key, slots.length); slots[slot] !== 0; slot = (slot + 1) & (slots.length - 1)) {
    if (keys[slots[slot]! - 1] === key) return series.values[slots[slot]! - 1];
  }
  return undefined;
}

/** A key's first slot in a table of `size` (a power of two): keys are already hashes. */
function slotOf(key: number, size: number): number {
  return (key % 2 ** 32) & (size - 1);
}

/** What a saved history must match to be used: its source and the selectors it kept series for. */
export interface HistoryOwner {
  /** A fingerprint of the page's address (without its query or credentials). */
  source: string;
  /** A fingerprint of the increase() and rate() selectors. */
  selectors: string;
}

/** The saved form: JSON, each metric's keys and values as base64 of their doubles. */
interface SavedHistory extends HistoryOwner {
  version: 2;
  salt: string;
  scrapes: { timestamp: number; series: Record<string, { keys: string; values: string }> }[];
}

/** The text a history is saved as. */
export function encodeHistory(history: ScrapeHistory, owner: HistoryOwner): string {
  const saved: SavedHistory = {
    version: 2,
    ...owner,
    salt: history.salt.toString('base64'),
    scrapes: history.scrapes.map((scrape) => ({
      timestamp: scrape.timestamp,
      series: Object.fromEntries([...scrape.series].map(([name, { keys, values }]) => [name, { keys: base64Of(keys), values: base64Of(values) }])),
    })),
  };
  return JSON.stringify(saved);
}

/**
 * The history saved as `text`, or undefined if it is unreadable, of another owner or of another
 * version: the source then warms up again, and its next poll replaces the file.
 */
export function decodeHistory(text: string, owner: HistoryOwner): ScrapeHistory | undefined {
  let saved: Partial<SavedHistory>;
  try {
    saved = JSON.parse(text) as Partial<SavedHistory>;
  } catch {
    return undefined;
  }
  if (saved?.version !== 2 || saved.source !== owner.source || saved.selectors !== owner.selectors) return undefined;
  if (typeof saved.salt !== 'string' || !Array.isArray(saved.scrapes)) return undefined;
  const scrapes: KeptScrape[] = [];
  for (const entry of saved.scrapes as unknown[]) {
    const { timestamp, series } = (entry ?? {}) as { timestamp?: unknown; series?: unknown };
    if (typeof timestamp !== 'number' || typeof series !== 'object' || series === null) return undefined;
    const kept = new Map<string, KeptSeries>();
    for (const [name, value] of Object.entries(series)) {
      const { keys, values } = (value ?? {}) as { keys?: unknown; values?: unknown };
      const decoded = typeof keys === 'string' && typeof values === 'string' ? { keys: doublesOf(keys), values: doublesOf(values) } : undefined;
      if (!decoded?.keys || !decoded.values || decoded.keys.length !== decoded.values.length || !decoded.keys.every(isKey)) return undefined;
      kept.set(name, { keys: decoded.keys, values: decoded.values });
    }
    scrapes.push({ timestamp, series: kept });
  }
  const salt = Buffer.from(saved.salt, 'base64');
  return new ScrapeHistory(new SeriesIdentity(salt), salt, scrapes.sort((a, b) => a.timestamp - b.timestamp));
}

function isKey(key: number): boolean {
  return Number.isSafeInteger(key) && key >= 0;
}

function base64Of(doubles: Float64Array): string {
  return Buffer.from(doubles.buffer, doubles.byteOffset, doubles.byteLength).toString('base64');
}

function doublesOf(base64: string): Float64Array | undefined {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length % 8 !== 0) return undefined;
  const doubles = new Float64Array(bytes.length / 8);
  Buffer.from(doubles.buffer).set(bytes);
  return doubles;
}
