/**
 * Stored values checked on read: the generated validators (state-shape.generated.ts) accept a
 * healthy value as it is, without zod; zod (state-schemas.ts, imported only then) parses the rest,
 * to say what is wrong or to return what it makes of them (a state whose planRecord it drops). An
 * accepted value is returned with its keys in zod's order, as zod would return it.
 * test/state/state-shape.test.ts checks that the validators accept exactly the values zod accepts
 * and returns unchanged.
 */
import { StateCorruptError } from '../errors.js';
import type { MetricSample } from './samples.js';
import * as accepts from './state-shape.generated.js';
import type { StoredShape } from './state-schemas.js';
import type { HistoryEvent, RequestAnswer, RolloutState, RunRequest } from './types.js';

interface Shapes {
  state: RolloutState;
  event: HistoryEvent;
  request: RunRequest;
  answer: RequestAnswer;
  sample: MetricSample;
}

/** Where a shape has objects, their keys in zod's order (scripts/state-validators.mjs). */
interface KeyOrder {
  keys?: Record<string, KeyOrder | null>;
  rest?: KeyOrder | null;
  items?: KeyOrder;
}

/**
 * `value`, an accepted value, as zod returns it: each object anew, the keys its schema names in
 * the schema's order, then the others in theirs.
 */
function inZodOrder(value: unknown, order: KeyOrder | null | undefined): unknown {
  if (!order || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => inZodOrder(item, order.items));
  const from = value as Record<string, unknown>;
  const named = order.keys ?? {};
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(named)) if (Object.hasOwn(from, key)) out[key] = inZodOrder(from[key], named[key]);
  for (const key of Object.keys(from)) if (!Object.hasOwn(named, key)) out[key] = inZodOrder(from[key], order.rest);
  return out;
}

type Parsed<T> = { success: true; data: T } | { success: false; at: string; message: string };

/** `value` as a `shape`, as zod parses it; exported for test/state/state-shape.test.ts. */
export async function parseShape<K extends StoredShape>(shape: K, value: unknown): Promise<Parsed<Shapes[K]>> {
  if ((accepts[shape] as (value: unknown) => boolean)(value)) return { success: true, data: inZodOrder(value, accepts.keyOrders[shape] as KeyOrder | null) as Shapes[K] };
  return (await import('./state-schemas.js')).parseWithZod(shape, value) as Parsed<Shapes[K]>;
}

async function parseStored<K extends 'state' | 'event'>(shape: K, value: unknown, what: string, where: string, aside: string): Promise<Shapes[K]> {
  const result = await parseShape(shape, value);
  if (result.success) return result.data;
  throw new StateCorruptError(`${where} is not a valid ${what}${result.at}: ${result.message}`, aside);
}

/** Checks a stored state's shape; StateCorruptError names `where` and says how to move it `aside`. */
export function parseStoredState(value: unknown, where: string, aside: string): Promise<RolloutState> {
  return parseStored('state', value, 'rollout state', where, aside);
}

/** Checks a stored history event's shape, as parseStoredState does for state. */
export function parseStoredEvent(value: unknown, where: string, aside: string): Promise<HistoryEvent> {
  return parseStored('event', value, 'history event', where, aside);
}

async function parseOrUndefined<K extends StoredShape>(shape: K, value: unknown): Promise<Shapes[K] | undefined> {
  const result = await parseShape(shape, value);
  return result.success ? result.data : undefined;
}

/** A stored request, or undefined when it is not one (a damaged file is skipped, not fatal to the run). */
export function parseRunRequest(value: unknown): Promise<RunRequest | undefined> {
  return parseOrUndefined('request', value);
}

/** A stored answer, or undefined when it is not one. */
export function parseRequestAnswer(value: unknown): Promise<RequestAnswer | undefined> {
  return parseOrUndefined('answer', value);
}

/**
 * A stored sample, or undefined when it is not one. Samples only draw charts: a damaged one is
 * left out rather than making the report or status fail.
 */
export function parseStoredSample(value: unknown): Promise<MetricSample | undefined> {
  return parseOrUndefined('sample', value);
}
