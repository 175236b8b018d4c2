import { describe, expect, it } from 'vitest';
import { parseJsonPath, readJsonPath, toFiniteNumber } from '../../src/sources/json-path.js';

const trpc = { result: { data: { json: { errorRate: 0.012, avgResponseTime: 840, count: 3 } } } };
const list = { items: [{ value: 1 }, { value: 2.5 }], 'key with space': { 'x-y': 7 } };

describe('parseJsonPath', () => {
  it.each([
    ['a', ['a']],
    ['result.data.json.errorRate', ['result', 'data', 'json', 'errorRate']],
    ['items[0].value', ['items', 0, 'value']],
    ['[0].x', [0, 'x']],
    ['[1][2]', [1, 2]],
    ['grid[0][10]', ['grid', 0, 10]],
    ['key with space.x-y', ['key with space', 'x-y']],
  ])('%s', (path, steps) => {
    expect(parseJsonPath(path)).toEqual({ ok: true, value: steps });
  });

  it.each([
    ['', 'it is empty'],
    ['.a', 'expected a key at 1'],
    ['a.', 'expected a key at 3'],
    ['a..b', 'expected a key at 3'],
    ['a[x]', '[ at 2 must hold an array index'],
    ['a[-1]', '[ at 2 must hold an array index'],
    ['a[0', '[ at 2 must hold an array index'],
    ['a[0]b', 'expected . or [ at 5'],
  ])('rejects %j', (path, why) => {
    const parsed = parseJsonPath(path);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(why);
  });
});

describe('readJsonPath', () => {
  it.each<[unknown, string, unknown]>([
    [trpc, 'result.data.json.errorRate', 0.012],
    [trpc, 'result.data.json', trpc.result.data.json],
    [list, 'items[1].value', 2.5],
    [list, 'key with space.x-y', 7],
    [[{ x: 4 }, { x: 5 }], '[1].x', 5],
    [{ a: null }, 'a', null],
    [{ a: false }, 'a', false],
  ])('reads %j at %s', (doc, path, value) => {
    expect(readJsonPath(doc, path)).toEqual({ ok: true, value });
  });

  it.each<[unknown, string, string]>([
    [trpc, 'result.data.json.errorrate', 'path result.data.json.errorrate not found: result.data.json has keys errorRate, avgResponseTime, count'],
    [trpc, 'results.data', 'path results.data not found: the document has keys result'],
    [list, 'items[2].value', 'path items[2].value not found: items is an array of 2 items'],
    [list, 'items.value', 'path items.value not found: items is an array of 2 items'],
    [list, 'items[0][0]', 'path items[0][0] not found: items[0] has keys value'],
    [trpc, 'result.data.json.count.x', 'path result.data.json.count.x not found: result.data.json.count is a number (3)'],
    [{ a: null }, 'a.b', 'path a.b not found: a is null'],
    [{ a: {} }, 'a.b', 'path a.b not found: a is an empty object'],
    [[1], '[0].x', 'path [0].x not found: [0] is a number (1)'],
    ['text', 'a', 'path a not found: the document is a string ("text")'],
    [{ a: 1 }, 'a[', 'invalid path a[: [ at 2 must hold an array index, e.g. [0]'],
  ])('%j at %s is missing', (doc, path, reason) => {
    expect(readJsonPath(doc, path)).toEqual({ ok: false, reason });
  });

  it('does not follow inherited properties', () => {
    expect(readJsonPath({}, 'constructor').ok).toBe(false);
    expect(readJsonPath([], 'length').ok).toBe(false);
  });

  it('shortens a long key list', () => {
    const doc = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i]));
    const found = readJsonPath(doc, 'x');
    expect(found).toEqual({ ok: false, reason: expect.stringContaining('k11, … (3 more)') });
  });
});

describe('toFiniteNumber', () => {
  it.each<[unknown, number]>([
    [0, 0],
    [0.5, 0.5],
    [-3, -3],
    ['0.5', 0.5],
    [' 12 ', 12],
    ['1e-3', 0.001],
    ['+4.', 4],
    ['.25', 0.25],
  ])('accepts %j', (value, number) => {
    expect(toFiniteNumber(value)).toEqual({ ok: true, value: number });
  });

  it.each<[unknown, string]>([
    ['NaN', 'value is NaN'],
    ['+Inf', 'value is +Inf'],
    ['-Inf', 'value is -Inf'],
    ['Infinity', 'value is +Inf'],
    [Number.NaN, 'value is NaN'],
    [Number.POSITIVE_INFINITY, 'value is +Inf'],
    [true, 'value is a boolean (true), not a number'],
    [null, 'value is null, not a number'],
    [{ a: 1, b: 2 }, 'value is an object with keys a, b, not a number'],
    [[1], 'value is an array of 1 item, not a number'],
    ['', 'value is a string (""), not a number'],
    ['0x1f', 'value is a string ("0x1f"), not a number'],
    ['12ms', 'value is a string ("12ms"), not a number'],
    [undefined, 'value is missing, not a number'],
  ])('refuses %j', (value, reason) => {
    const number = toFiniteNumber(value);
    expect(number.ok).toBe(false);
    if (!number.ok) expect(number.reason).toContain(reason);
  });
});
