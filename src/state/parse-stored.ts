/**
 * Stored values checked on read: the generated validators (state-shape.generated.ts) accept a
 * healthy value as it is, without zod; zod (state-schemas.ts, imported only then) parses the rest,
 * to say what is wrong or to return what it makes of them (a state whose planRecord it drops).
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

type Parsed<T> = { success: true; data: T } | { success: false; at: string; message: string };

async function parse<K extends StoredShape>(shape: K, value: unknown): Promise<Parsed<Shapes[K]>> {
  if ((accepts[shape] as (value: unknown) => boolean)(value)) return { success: true, data: value as Shapes[K] };
  return (await import('./state-schemas.js')).parseWithZod(shape, value) as Parsed<Shapes[K]>;
}

async function parseStored<K extends 'state' | 'event'>(shape: K, value: unknown, what: string, where: string, aside: string): Promise<Shapes[K]> {
  const result = await parse(shape, value);
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
  const result = await parse(shape, value);
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
