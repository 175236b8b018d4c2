/**
 * The layering a reviewer can check without reading every file: no import cycles in src/ (type-only
 * and dynamic imports count, so layers stay clean for types too), no file over 400 lines, a pure
 * analysis core, and a rollout core that takes nothing from commands/ (the context it is given lives below both).
 * The same cycle check runs for people as `npm run lint:arch`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');
const MAX_LINES = 400;

/** Files still over the limit, each to be split by the change that owns it; one that shrinks fails the test until it is struck off. */
const OVER_LIMIT_FOR_NOW = new Set<string>([]);

/** What the pure analysis core may never import: I/O and the layers above it. */
const NOT_FOR_ANALYSIS = ['sources/', 'commands/', 'cli/', 'targets/', 'rollout/', 'notify/', 'net/', 'demo/'];


type Graph = Record<string, string[]>;

/** The import graph of src/, paths relative to it; `types` says whether type-only imports are edges. */
async function importGraph(types: boolean): Promise<Graph> {
  const result = await madge(SRC, {
    fileExtensions: ['ts'],
    tsConfig: join(ROOT, 'tsconfig.json'),
    detectiveOptions: { ts: { skipTypeImports: !types, skipAsyncImports: false } },
  });
  // Packages resolved only through an `exports` map (e.g. @bomb.sh/tab/commander) are beyond madge; tsc checks those.
  const ours = result.warnings().skipped.filter((specifier) => specifier.startsWith('.'));
  expect(ours, 'imports of our own files madge could not resolve').toEqual([]);
  return result.obj();
}

/** Every import cycle of `graph`, each as the files around it. */
async function cyclesOf(graph: Graph): Promise<string[][]> {
  return (await madge(graph)).circular();
}

/** `from → to` for each import of a file under `from` that lands under one of `forbidden`. */
function importsInto(graph: Graph, from: string, forbidden: string[]): string[] {
  return Object.entries(graph).flatMap(([file, deps]) =>
    file.startsWith(from) ? deps.filter((d) => forbidden.some((f) => d.startsWith(f))).map((d) => `${file} → ${d}`) : [],
  );
}

/** Files under `dir` (relative to it) with more than `max` lines. */
function longFiles(dir: string, max: number): Map<string, number> {
  const long = new Map<string, number>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > max) long.set(relative(dir, path), lines);
  }
  return long;
}

describe('the checks catch what they are for', () => {
  it('a cycle is found, naming only the files in it', async () => {
    expect(await cyclesOf({ 'a.ts': ['b.ts'], 'b.ts': ['c.ts'], 'c.ts': ['a.ts'], 'd.ts': ['a.ts'] })).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    expect(await cyclesOf({ 'a.ts': ['b.ts'], 'b.ts': [] })).toEqual([]);
  });

  it('a forbidden import is named, an allowed one is not', () => {
    const graph = { 'analysis/judge.ts': ['plan/types.ts', 'sources/source.ts'], 'cli/x.ts': ['sources/source.ts'] };
    expect(importsInto(graph, 'analysis/', NOT_FOR_ANALYSIS)).toEqual(['analysis/judge.ts → sources/source.ts']);
  });
});

describe('src/', () => {
  let withTypes: Graph;
  let valuesOnly: Graph;
  beforeAll(async () => {
    [withTypes, valuesOnly] = await Promise.all([importGraph(true), importGraph(false)]);
  });

  it('the graph covers every module, with type-only and dynamic imports as edges', () => {
    const modules = readdirSync(SRC, { recursive: true }).map(String).filter((f) => f.endsWith('.ts'));
    expect(Object.keys(withTypes).sort()).toEqual(modules.sort());
    // A type-only import (rollout/open.ts takes CommandContext) and a dynamic one (rollout/meter.ts loads the sources on the first poll).
    expect(withTypes['rollout/open.ts']).toContain('context.ts');
    expect(valuesOnly['rollout/open.ts']).not.toContain('context.ts');
    expect(valuesOnly['rollout/meter.ts']).toContain('sources/read-metrics.ts');
  });

  it('has no import cycle', async () => {
    expect(await cyclesOf(withTypes)).toEqual([]);
  });

  it(`has no file over ${MAX_LINES} lines (but the known ones, while they still are)`, () => {
    const long = longFiles(SRC, MAX_LINES);
    expect([...long.keys()].filter((f) => !OVER_LIMIT_FOR_NOW.has(f)), 'split these files').toEqual([]);
    expect([...OVER_LIMIT_FOR_NOW].filter((f) => !long.has(f)), 'no longer over the limit: strike them off OVER_LIMIT_FOR_NOW').toEqual([]);
  });

  it('keeps analysis/ pure: no sources, targets, commands, cli, rollout, notify, net or demo', () => {
    expect(importsInto(withTypes, 'analysis/', NOT_FOR_ANALYSIS)).toEqual([]);
  });

  it('keeps rollout/ below the commands: nothing from commands/, not even types', () => {
    expect(importsInto(withTypes, 'rollout/', ['commands/'])).toEqual([]);
  });

  it('takes zod (its values, not its types) only through src/zod-configured.ts, which configures it', () => {
    const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    const direct = files.filter((file) => file !== 'zod-configured.ts' && /^import (?!type )[^;]*from 'zod(\/[^']*)?';/m.test(readFileSync(join(SRC, file), 'utf8')));
    expect(direct).toEqual([]);
  });
});
