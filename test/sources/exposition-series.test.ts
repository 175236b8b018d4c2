import { describe, expect, it } from 'vitest';
import { evaluateExpression } from '../../src/sources/exposition/evaluate.js';
import { ScrapeHistory, type Scrape } from '../../src/sources/exposition/history.js';
import { SeriesIdentity } from '../../src/sources/exposition/identity.js';
import { parseExposition } from '../../src/sources/exposition/parse.js';
import { parseExpression, rangeFunctionsOf } from '../../src/sources/exposition/promql.js';
import { LabelTable, Samples } from '../../src/sources/exposition/series.js';
import { NoDataError } from '../../src/sources/source.js';

describe('LabelTable', () => {
  it('gives equal strings one id, and finds only what it has', () => {
    const table = new LabelTable();
    const a = table.intern('a');
    expect(table.intern('b')).not.toBe(a);
    expect(table.intern('a')).toBe(a);
    expect(table.find('a')).toBe(a);
    expect(table.find('c')).toBe(-1);
  });

  it('keeps each list of label names once, and knows one that has a name twice', () => {
    const table = new LabelTable();
    const [a, b] = [table.intern('a'), table.intern('b')];
    const ab = table.schema([a, b, 99], 2);
    expect(table.schema([a, b], 2)).toBe(ab);
    expect(table.schemaIs(ab, [a, b], 2)).toBe(true);
    expect(table.schemaIs(ab, [b, a], 2)).toBe(false);
    expect(table.uniqueNames[ab]).toBe(true);
    expect(table.uniqueNames[table.schema([a, a], 2)]).toBe(false);
  });
});

describe('Samples', () => {
  it('holds labels as ids and gives them back as objects, in page order', () => {
    const samples = Samples.from([{ b: '2', a: '1' }, {}, { a: '1' }], [1, 2, 3]);
    expect(samples).toEqual({ labels: [{ b: '2', a: '1' }, {}, { a: '1' }], values: [1, 2, 3] });
    expect(Object.keys(samples.labelsAt(0))).toEqual(['b', 'a']);
    const { strings, schemas } = samples.table;
    expect(schemas[samples.schemaAt(0)]!.map((id) => strings[id])).toEqual(['b', 'a']);
    expect(strings[samples.valueAt(2, 0)]).toBe('1');
    expect(samples.valueAt(2, 0)).toBe(samples.valueAt(0, 1));
    expect(samples.cells[samples.starts[1]!]).toBe(samples.schemaAt(1));
  });

  it('packs rows added across many blocks, and packs once', () => {
    const labels = Array.from({ length: 5000 }, (_, i) => ({ route: `/r/${i % 7}`, status: String(200 + (i % 3)) }));
    const samples = Samples.from(labels, labels.map((_, i) => i));
    samples.seal();
    expect(samples.labels).toEqual(labels);
    expect(samples.table.strings.length).toBe(1 + 2 + 7 + 3); // "" is every table's first string
  });
});

describe('the parser and evaluation on ids', () => {
  it('gives a value the id of the same label name, whichever came first', () => {
    const page = parseExposition('m{le="x",x="le"} 1\nm{le="le\\\\",x="le"} 2\n');
    const samples = page.series.get('m')!;
    const { strings } = samples.table;
    expect(strings.filter((s) => s === 'le')).toHaveLength(1);
    expect(strings.filter((s) => s === 'x')).toHaveLength(1);
    expect(samples.labels).toEqual([
      { le: 'x', x: 'le' },
      { le: 'le\\', x: 'le' },
    ]);
  });

  const scrape = (page: string, timestamp: number): Scrape => ({ timestamp, series: parseExposition(page).series });
  const after = (expr: string, previous: Scrape): ScrapeHistory => {
    const functions = rangeFunctionsOf(parseExpression(expr));
    const start = ScrapeHistory.start();
    return start.add(start.keep(previous, functions), functions);
  };
  const noData = (expr: string, current: Scrape, previous: Scrape): string => {
    try {
      evaluateExpression(parseExpression(expr), current, after(expr, previous));
    } catch (err) {
      if (err instanceof NoDataError) return err.reason;
      throw err;
    }
    throw new Error(`${expr} read a value`);
  };

  it('says the same about a remembered rate as about the first one computed', () => {
    const before = scrape('m{a="x"} 1\n', 0);
    const now = scrape('m{a="y"} 5\n', 1000);
    const first = noData('sum(increase(m{a=~".*"}))', now, before);
    expect(first).toBe('empty result (no series of m{a=~".*"} is in both scrapes)');
    expect(noData('sum(increase(m{a=~".*"})) * 2', now, before)).toBe(first);
  });

  it('pairs a scrape with the history it is given, not one it was paired with before', () => {
    const now = scrape('m{a="x"} 5\n', 2000);
    const increase = parseExpression('sum(increase(m))');
    expect(evaluateExpression(increase, now, after('sum(increase(m))', scrape('m{a="x"} 1\n', 0)))).toBe(4);
    expect(evaluateExpression(increase, now, after('sum(increase(m))', scrape('m{a="x"} 3\n', 1000)))).toBe(2);
  });

  it('drops the later of two rows with one label set when sealing for a page, not otherwise', () => {
    const labels: Record<string, string>[] = [{ a: '1', b: '2' }, { b: '2', a: '1' }, { a: '1' }];
    const page = Samples.from(labels, [1, 2, 3]);
    expect(page.values).toEqual([1, 2, 3]);
    const table = new LabelTable();
    const deduped = new Samples(table);
    const [a, b, one, two] = ['a', 'b', '1', '2'].map((text) => table.intern(text)) as [number, number, number, number];
    deduped.push(table.schema([a, b], 2), [one, two], 1);
    deduped.push(table.schema([b, a], 2), [two, one], 2);
    deduped.push(table.schema([a], 1), [one], 3);
    deduped.seal({ firstOfEachSeries: true });
    expect(deduped).toEqual({ labels: [{ a: '1', b: '2' }, { a: '1' }], values: [1, 3] });
  });
});

describe('SeriesIdentity', () => {
  const keys = (identity: SeriesIdentity, page: string) => {
    const samples = parseExposition(page).series.get('m')!;
    return [...identity.keysOf(samples, samples.values.map((_, row) => row))];
  };

  it('gives a label set one key, whatever the order of its labels, and other sets other keys', () => {
    const identity = new SeriesIdentity(Buffer.from('salt'));
    const [ab, swapped, oneLabel, none] = keys(identity, 'm{a="x",b="y"} 1\nm{a="y",b="x"} 2\nm{a="x"} 3\nm 4\n');
    expect(new Set([ab, swapped, oneLabel, none]).size).toBe(4);
    expect(keys(identity, 'm{b="y",a="x"} 1\n')).toEqual([ab]);
    expect(keys(new SeriesIdentity(Buffer.from('salt')), 'm{a="x",b="y"} 1\n')).toEqual([ab]);
    expect(keys(new SeriesIdentity(Buffer.from('other salt')), 'm{a="x",b="y"} 1\n')).not.toEqual([ab]);
    for (const key of [ab, swapped, oneLabel]) expect(Number.isSafeInteger(key) && key! >= 0).toBe(true);
  });
});
