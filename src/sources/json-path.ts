/**
 * Pure helpers for reading a number out of a JSON document: the dotted path of the plan
 * (`result.data.json.errorRate`, `items[0].value`, `[0].x`) and the JSON-value-to-number rule.
 * They return outcomes rather than throw, so the json source and the http target can each wrap
 * a failure in their own error type.
 */

/** Either the value, or why there is none (a sentence fragment an operator understands). */
export type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string };

/** One step of a path: an object key or an array index. */
export type JsonPathStep = string | number;

/** Splits a path into steps; an `ok: false` outcome explains the syntax error. */
export function parseJsonPath(path: string): Outcome<JsonPathStep[]> {
  const steps: JsonPathStep[] = [];
  const invalid = (why: string): Outcome<JsonPathStep[]> => ({ ok: false, reason: `invalid path ${path}: ${why}` });
  let i = 0;
  while (i < path.length) {
    if (path[i] === '[') {
      const close = path.indexOf(']', i);
      const index = path.slice(i + 1, close);
      if (close < 0 || !/^\d+$/.test(index)) return invalid(`[ at ${i + 1} must hold an array index, e.g. [0]`);
      steps.push(Number(index));
      i = close + 1;
      continue;
    }
    // A key starts the path or follows a dot; after a key or `]` only `.`, `[` or the end may come.
    if (steps.length > 0) {
      if (path[i] !== '.') return invalid(`expected . or [ at ${i + 1}`);
      i++;
    }
    const key = /^[^.[\]]+/.exec(path.slice(i))?.[0];
    if (key === undefined) return invalid(`expected a key at ${i + 1}`);
    steps.push(key);
    i += key.length;
  }
  if (steps.length === 0) return invalid('it is empty');
  return { ok: true, value: steps };
}

/** The value at `path` in `doc`, or why it is not there (naming the keys that are). */
export function readJsonPath(doc: unknown, path: string): Outcome<unknown> {
  const parsed = parseJsonPath(path);
  if (!parsed.ok) return parsed;
  let current = doc;
  for (const [depth, step] of parsed.value.entries()) {
    const next = childOf(current, step);
    if (next === undefined) {
      const parent = formatSteps(parsed.value.slice(0, depth));
      return { ok: false, reason: `path ${path} not found: ${parent ?? 'the document'} ${describeContainer(current)}` };
    }
    current = next;
  }
  return { ok: true, value: current };
}

/**
 * A metric value as a finite number. JSON numbers pass; so do numeric strings, because many APIs
 * (Prometheus among them) send numbers as strings. NaN and infinities are refused: they come from
 * divisions over no traffic and must never be judged healthy.
 */
export function toFiniteNumber(value: unknown): Outcome<number> {
  let number: number | undefined;
  if (typeof value === 'number') number = value;
  else if (typeof value === 'string') number = parseNumericString(value.trim());
  if (number === undefined) return { ok: false, reason: `value is ${describeValue(value)}, not a number` };
  if (Number.isNaN(number)) return { ok: false, reason: 'value is NaN (a ratio over no traffic?)' };
  if (!Number.isFinite(number)) return { ok: false, reason: `value is ${number > 0 ? '+' : '-'}Inf (a division by zero?)` };
  return { ok: true, value: number };
}

// `Number()` alone would read "" as 0 and accept "0x1f"; only decimal notation and the
// spellings of NaN and Inf used by Prometheus and JavaScript are numbers here.
function parseNumericString(text: string): number | undefined {
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return Number(text);
  if (/^nan$/i.test(text)) return Number.NaN;
  const inf = /^([+-]?)inf(inity)?$/i.exec(text);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  return undefined;
}

function childOf(container: unknown, step: JsonPathStep): unknown {
  if (typeof step === 'number') return Array.isArray(container) ? container[step] : undefined;
  return isPlainObject(container) && Object.hasOwn(container, step) ? container[step] : undefined;
}

function formatSteps(steps: JsonPathStep[]): string | undefined {
  if (steps.length === 0) return undefined;
  return steps.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

// Objects list their keys, so a typo in the plan's path is obvious from the reason alone.
function describeContainer(value: unknown): string {
  if (isPlainObject(value) && Object.keys(value).length > 0) return `has keys ${keyList(value)}`;
  return `is ${describeValue(value)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function keyList(value: Record<string, unknown>): string {
  const keys = Object.keys(value);
  const more = keys.length > 12 ? `, … (${keys.length - 12} more)` : '';
  return `${keys.slice(0, 12).join(', ')}${more}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'string') return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
  if (isPlainObject(value)) return Object.keys(value).length === 0 ? 'an empty object' : `an object with keys ${keyList(value)}`;
  return `a ${typeof value} (${String(value)})`;
}
