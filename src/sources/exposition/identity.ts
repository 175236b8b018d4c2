/**
 * Series identities that hold no label text: what the scrape cache stores instead of labels, so a
 * secret a page echoes in a label value never reaches the disk (issue 14). Each label name and
 * value has a SHA-256 digest over a random salt kept with the cache (made once per distinct string
 * of a page); a label's hash mixes its name's and value's digests; a series' key is the sum of its
 * labels' hashes, modulo 2^32 in each of two halves, so it does not depend on label order.
 *
 * Keys are 53-bit numbers (doubles hold them exactly). Two series of one page share a key with a
 * chance of about n²/2^54: 2e-6 for 100,000 series.
 */
import { createHash, type Hash } from 'node:crypto';
import type { LabelTable, Samples } from './series.js';

/** Turns series into keys; one per scrape cache, as its salt makes the keys. */
export class SeriesIdentity {
  private readonly base: Hash;
  /** By label table, each string's digest halves at `2 × id` and `2 × id + 1`, 0 and 0 until made. */
  private readonly digests = new WeakMap<LabelTable, Uint32Array>();
  /** By samples, each row's key once made (-1 until then): a poll's selections share rows. */
  private readonly rowKeys = new WeakMap<Samples, Float64Array>();

  constructor(salt: Buffer) {
    this.base = createHash('sha256').update(salt);
  }

  /** The key of each of `rows` of `samples`, in that order; each row's key is made once. */
  keysOf(samples: Samples, rows: readonly number[]): Float64Array {
    let known = this.rowKeys.get(samples);
    if (known === undefined) this.rowKeys.set(samples, (known = new Float64Array(samples.values.length).fill(-1)));
    const keys = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (known[row]! < 0) known[row] = this.keyOf(samples, row);
      keys[i] = known[row]!;
    }
    return keys;
  }

  private keyOf(samples: Samples, row: number): number {
    const table = samples.table;
    let digests = this.digests.get(table);
    if (digests === undefined || digests.length < 2 * table.strings.length) {
      const grown = new Uint32Array(2 * table.strings.length);
      if (digests) grown.set(digests);
      this.digests.set(table, (digests = grown));
    }
    const names = table.schemas[samples.schemaAt(row)]!;
    let a = 0;
    let b = 0;
    for (let position = 0; position < names.length; position++) {
      const name = this.digestOf(table, digests, names[position]!);
      const value = this.digestOf(table, digests, samples.valueAt(row, position));
      // One label's hash, mixed from its name's and value's digests (so a=x,b=y is not a=y,b=x).
      a = (a + mix(digests[name]! ^ Math.imul(digests[value + 1]!, 0x9e3779b1), digests[value]!)) >>> 0;
      b = (b + mix(digests[name + 1]! ^ Math.imul(digests[value]!, 0x85ebca6b), digests[value + 1]!)) >>> 0;
    }
    return (a >>> 11) * 2 ** 32 + b;
  }

  /** Where string `id`'s digest is in `digests`, made the first time it is asked for. */
  private digestOf(table: LabelTable, digests: Uint32Array, id: number): number {
    const at = 2 * id;
    if (digests[at] === 0 && digests[at + 1] === 0) {
      const digest = this.base.copy().update(table.strings[id]!).digest();
      // A digest of two zero words would be made again each time, which is only slower.
      digests[at] = digest.readUInt32BE(0);
      digests[at + 1] = digest.readUInt32BE(4);
    }
    return at;
  }
}

/** MurmurHash3's finalizer over two words: every input bit reaches every output bit. */
function mix(x: number, y: number): number {
  let h = Math.imul(x ^ Math.imul(y, 0xcc9e2d51), 0x1b873593);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
