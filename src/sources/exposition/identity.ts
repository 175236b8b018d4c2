/**
 * Series identities that hold no label text: what the scrape cache stores instead of labels, so a
 * secret a page echoes in a label value never reaches the disk (issue 14). A series' key is the
 * sum, modulo 2^32 in each of two halves, of one SHA-256 digest per label, taken over a random
 * salt kept with the cache, the label's name and its value. The sum does not depend on label
 * order, and a page's labels repeat, so each digest is made once per distinct label of a page.
 *
 * Keys are 53-bit numbers (doubles hold them exactly). Two series of one page share a key with a
 * chance of about n²/2^54: 2e-6 for 100,000 series.
 */
import { createHash, type Hash } from 'node:crypto';
import type { LabelTable, Samples } from './series.js';

/** Turns series into keys; one per scrape cache, as its salt and source make the keys. */
export class SeriesIdentity {
  private readonly base: Hash;
  /** By label table, each label's digest halves (a, b) by `nameId * 2^26 + valueId`. */
  private readonly digests = new WeakMap<LabelTable, Map<number, number[]>>();

  constructor(salt: Buffer) {
    this.base = createHash('sha256').update(salt);
  }

  /** The key of each of `rows` of `samples`, in that order. */
  keysOf(samples: Samples, rows: readonly number[]): Float64Array {
    const table = samples.table;
    let digests = this.digests.get(table);
    if (digests === undefined) this.digests.set(table, (digests = new Map()));
    const keys = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const names = table.schemas[samples.schemaAt(row)]!;
      let a = 0;
      let b = 0;
      for (let position = 0; position < names.length; position++) {
        const nameId = names[position]!;
        const valueId = samples.valueAt(row, position);
        const pair = nameId * 2 ** 26 + valueId;
        let digest = digests.get(pair);
        if (digest === undefined) digests.set(pair, (digest = this.digest(table.strings[nameId]!, table.strings[valueId]!)));
        a = (a + digest[0]!) >>> 0;
        b = (b + digest[1]!) >>> 0;
      }
      keys[i] = (a >>> 11) * 2 ** 32 + b;
    }
    return keys;
  }

  private digest(name: string, value: string): number[] {
    const digest = this.base.copy().update(name).update('\0').update(value).digest();
    return [digest.readUInt32BE(0), digest.readUInt32BE(4)];
  }
}
