/** JSON values changed at one place, for tests that check two validators agree (fast-check). */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value in `data`, objects and arrays included. */
export function pathsOf(data: Json, at: (string | number)[] = []): (string | number)[][] {
  const here = [at];
  if (Array.isArray(data)) return here.concat(data.flatMap((item, i) => pathsOf(item, [...at, i])));
  if (data !== null && typeof data === 'object') return here.concat(Object.entries(data).flatMap(([key, value]) => pathsOf(value, [...at, key])));
  return here;
}

/** `data` with the value at `path` replaced (or deleted, or given a sibling key). */
export function mutated(data: Json, path: (string | number)[], how: 'replace' | 'delete' | 'add', value: Json): Json {
  const copy = structuredClone(data);
  if (path.length === 0) return how === 'replace' ? value : copy;
  const parentPath = path.slice(0, -1);
  let parent = copy as Record<string | number, Json>;
  for (const key of parentPath) parent = parent[key] as Record<string | number, Json>;
  const last = path[path.length - 1] as string | number;
  if (how === 'replace') parent[last] = value;
  else if (how === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (!Array.isArray(parent)) parent[`${String(last)}Extra`] = value;
  return copy;
}

/** `data` changed at the `pick`th of its paths (modulo their number). */
export function mutatedAt(data: Json, pick: number, how: 'replace' | 'delete' | 'add', value: Json): Json {
  const paths = pathsOf(data);
  return mutated(data, paths[pick % paths.length] as (string | number)[], how, value);
}
