/**
 * What needs the `yaml` package to read a plan: counting its tokens, parsing it, and saying where a
 * path of its data is written. Imported only when a plan must be parsed (one not in the plan
 * cache) or a problem located, and bundled apart (scripts/build.mjs): a plan read from the plan
 * cache with nothing to say runs, and reads, none of `yaml`.
 */
import { isCollection, Lexer, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { locate, type DataPath } from './locate.js';

/** A plan's YAML, parsed. */
export interface PlanYaml {
  readonly document: Document;
  /** The 1-based line:col of the value at `path`, or of its key (locate.ts). */
  position(path: DataPath, atKey?: boolean): { line: number; col: number };
  /** Whether a key is a collection (`? [a, b]: c`), which YAML's toJS warns about at every parse. */
  hasCollectionKey(): boolean;
}

export function parsePlanYaml(text: string): PlanYaml {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true, strict: true });
  return {
    document,
    position: (path, atKey) => locate(document, lines, path, atKey),
    hasCollectionKey() {
      let found = false;
      visit(document, {
        Pair(_, pair) {
          if (!isCollection(pair.key)) return undefined;
          found = true;
          return visit.BREAK;
        },
      });
      return found;
    },
  };
}

/** True when `text` lexes into more than `max` YAML tokens; stops counting there. */
export function hasMoreTokens(text: string, max: number): boolean {
  let count = 0;
  for (const _token of new Lexer().lex(text)) if (++count > max) return true;
  return false;
}
