/**
 * "Did you mean …?" for an unknown key in a plan: the keys allowed where it stands, read from the
 * plan's JSON Schema (the same one `rollout schema` prints), and the closest of them by edit distance.
 */
import { distance } from 'fastest-levenshtein';
import { planJsonSchema } from './schema.js';

type JsonSchema = { properties?: Record<string, JsonSchema>; items?: JsonSchema; additionalProperties?: JsonSchema | boolean; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; allOf?: JsonSchema[]; const?: unknown };

/** The alternatives of a schema node, flattened (a discriminated union is a oneOf of objects). */
function alternatives(node: JsonSchema): JsonSchema[] {
  const choices = [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])];
  return choices.length === 0 ? [node] : choices.flatMap(alternatives);
}

/** Whether an object schema is the union member for `value` (its `type:` matches, when both have one). */
function fits(node: JsonSchema, value: unknown): boolean {
  const wanted = node.properties?.type?.const;
  const given = value !== null && typeof value === 'object' ? (value as Record<string, unknown>).type : undefined;
  return wanted === undefined || given === undefined || wanted === given;
}

/** The keys the schema allows in the mapping at `path` of `data`. */
export async function allowedKeys(data: unknown, path: readonly (string | number)[]): Promise<string[]> {
  let nodes = [(await planJsonSchema()) as JsonSchema];
  let value = data;
  for (const segment of path) {
    nodes = nodes.flatMap(alternatives).filter((node) => fits(node, value)).flatMap((node) => {
      if (typeof segment === 'number') return node.items ? [node.items] : [];
      const child = node.properties?.[segment] ?? node.additionalProperties;
      return typeof child === 'object' ? [child] : [];
    });
    value = value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[segment] : undefined;
  }
  const keys = nodes.flatMap(alternatives).filter((node) => fits(node, value)).flatMap((node) => Object.keys(node.properties ?? {}));
  return [...new Set(keys)].filter((key) => key !== '$schema');
}

/** The same letters in another order ("kye" and "key"): a slip of the fingers, not another word. */
function sameLetters(a: string, b: string): boolean {
  return [...a].sort().join('') === [...b].sort().join('');
}

/**
 * The allowed key closest to `key` by edit distance, case ignored, when it is close enough to be a
 * slip: at most a third of its letters off (at least 2). Ties go to a key with the same letters.
 */
export function closestKey(key: string, allowed: string[]): string | undefined {
  const typed = key.toLowerCase();
  const ranked = allowed
    .map((candidate) => ({ candidate, off: distance(typed, candidate.toLowerCase()) - (sameLetters(typed, candidate.toLowerCase()) ? 0.5 : 0) }))
    .sort((a, b) => a.off - b.off);
  const best = ranked[0];
  return best && best.off <= Math.max(2, Math.floor(key.length / 3)) ? best.candidate : undefined;
}
