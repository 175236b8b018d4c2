/**
 * The YAML of the last plan a command read, parsed, so that reading the same plan again skips the
 * YAML parse: about 10 ms of `rollout validate`, and the memory of running the parser (bench/README.md,
 * "The floors"). bin/rollout.js keeps one such file per command beside its code cache, in the same
 * private directory, for the same build only; without it (no cache, ROLLOUT_CODE_CACHE=off, tests
 * that call the commands in-process) there is nothing to read or keep.
 *
 * Used only for the very same text, compared whole. What is kept is the plan as YAML gives it,
 * before `${VAR}`s are filled in, so no secret's value is ever written; and only when it survives
 * JSON unchanged (`.inf`, `.nan` or `-0` would not).
 */
import { isDeepStrictEqual } from 'node:util';

/** What bin/rollout.js hands a command: its plan file's contents (undefined if none or unusable), and a writer. */
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

/** A cache over one file holding the last plan kept. */
export function planParseCache(file: PlanCacheFile): PlanParseCache {
  return {
    read(text) {
      try {
        const entry = JSON.parse(file.read()?.toString('utf8') ?? 'null') as Entry | null;
        return entry?.text === text ? entry.data : undefined;
      } catch {
        return undefined; // damaged: parsed again, and kept anew
      }
    },
    keep(text, data) {
      const json = JSON.stringify({ text, data } satisfies Entry);
      if (isDeepStrictEqual((JSON.parse(json) as Entry).data, data)) file.write(Buffer.from(json, 'utf8'));
    },
  };
}
