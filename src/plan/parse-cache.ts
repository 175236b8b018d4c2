/**
 * The YAML of the last plan a command read, parsed, so that reading the same plan again skips the
 * YAML parse: about 10 ms of `rollout validate`, and the memory of running the parser (bench/README.md,
 * "The floors"). bin/rollout.js keeps one such file per command beside its code cache, in the same
 * private directory, for the same build only; without it (no cache, ROLLOUT_CODE_CACHE=off, tests
 * that call the commands in-process) there is nothing to read or keep.
 *
 * Used only for the very same text, compared whole, and an entry found whole. What is
 * kept is the plan as YAML gives it, before `${VAR}`s are filled in, so no secret's value is ever
 * written; and only when it survives JSON unchanged (`.inf`, `.nan` or `-0` would not) and is not
 * many times the plan's size.
 */
import { isDeepStrictEqual } from 'node:util';

/**
 * What bin/rollout.js hands a command: its plan file's contents (undefined if none or unusable),
 * and a writer (bin writes once the command has ended).
 */
interface PlanCacheFile {
  read(): Buffer | undefined;
  write(data: Buffer): void;
}

/** The parsed YAML of plans read before, by their text. */
export interface PlanParseCache {
  /** The parsed YAML of `text`, if kept. */
  read(text: string): unknown;
  /** Keeps `data`, the parsed YAML of `text`, when JSON holds it exactly. */
  keep(text: string, data: unknown): void;
}

interface Entry {
  text: string;
  data: unknown;
}

/** The cache bin/rollout.js made for this command, or undefined when it made none. */
export function commandPlanCache(): PlanParseCache | undefined {
  const file = (process as unknown as Record<symbol, PlanCacheFile | undefined>)[Symbol.for('rollout.planCache')];
  return file && planParseCache(file);
}

/**
 * A cache over one file holding the last plan kept: the entry's JSON twice, a newline between (JSON
 * has none of its own). Damage (a flipped bit, a torn write) leaves the copies unequal. Compared
 * rather than hashed: a hash computed in JavaScript over the entry made V8 optimise the loop, which
 * cost 4 MB of peak memory, and Node's own hashes cost a module load (1.6-2.4 ms).
 */
export function planParseCache(file: PlanCacheFile): PlanParseCache {
  return {
    read(text) {
      try {
        const copies = file.read()?.toString('utf8') ?? '';
        const json = copies.slice(0, (copies.length - 1) / 2);
        if (copies !== `${json}\n${json}`) return undefined; // none, or damaged
        const entry = JSON.parse(json) as Partial<Entry> | null;
        const { data } = entry ?? {};
        return entry?.text === text && isMapping(data) ? data : undefined;
      } catch {
        return undefined; // damaged: parsed again, and kept anew
      }
    },
    keep(text, data) {
      // Aliases are written out in full: a plan of a few aliases to a large value would make a file
      // many times its size, read at every run; such data is not even written out to find that.
      const budget = MAX_GROWTH * text.length + 4096;
      if (!fitsIn(data, budget)) return;
      let json: string;
      try {
        json = JSON.stringify({ text, data } satisfies Entry);
      } catch {
        return; // a plan that holds itself (an alias inside its own anchor) is no plan to keep
      }
      if (json.length > budget) return;
      if (isDeepStrictEqual((JSON.parse(json) as Entry).data, data)) file.write(Buffer.from(`${json}\n${json}`, 'utf8'));
    },
  };
}

/** How many times the plan's length its entry may take. */
const MAX_GROWTH = 4;

/**
 * Whether `value` as JSON could take at most `budget` characters, counting its strings, keys and
 * numbers (an undercount: escapes and punctuation are left out); stops once over. The exact length
 * is checked after.
 */
function fitsIn(value: unknown, budget: number): boolean {
  let left = budget;
  const walk = (node: unknown): boolean => {
    if (typeof node === 'string') return (left -= node.length) >= 0;
    if (node === null || typeof node !== 'object') return (left -= 1) >= 0;
    if (Array.isArray(node)) return node.every(walk);
    return Object.entries(node).every(([key, child]) => (left -= key.length) >= 0 && walk(child));
  };
  return walk(value);
}

function isMapping(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
