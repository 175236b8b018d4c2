/**
 * The plan cache's rules (src/plan/parse-cache.ts) over an in-memory file: the entry is used for
 * the same text only, a damaged one is no entry, only what JSON holds exactly is kept, and a plan
 * read through the cache is the plan parsing gives, its problems located alike.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PlanError } from '../../src/errors.js';
import { parsePlan } from '../../src/plan/load-plan.js';
import { planParseCache } from '../../src/plan/parse-cache.js';
import { Secrets } from '../../src/plan/secrets.js';

/** A cache over a file held in memory; `writes` counts what was written. */
function memoryCache(initial?: string) {
  const file: { bytes: Buffer | undefined; writes: number } = { bytes: initial === undefined ? undefined : Buffer.from(initial), writes: 0 };
  const cache = planParseCache({
    read: () => file.bytes,
    write: (data) => {
      file.bytes = data;
      file.writes++;
    },
  });
  return { cache, file };
}

describe('planParseCache', () => {
  it('gives back what it kept for the same text only', () => {
    const { cache, file } = memoryCache();
    expect(cache.read('a: 1\n')).toBeUndefined();
    cache.keep('a: 1\n', { a: 1, list: [1, 'x', null, true, { deep: [] }], __proto__x: 2 });
    expect(file.writes).toBe(1);
    expect(cache.read('a: 1\n')).toEqual({ a: 1, list: [1, 'x', null, true, { deep: [] }], __proto__x: 2 });
    expect(cache.read('a: 1')).toBeUndefined();
    expect(cache.read('a: 1\n\n')).toBeUndefined();
  });

  it('keeps a "__proto__" key as the own key it is, never as a prototype', () => {
    const { cache } = memoryCache();
    const data = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    cache.keep('t', data);
    const read = cache.read('t') as Record<string, unknown>;
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    expect(Object.hasOwn(read, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps nothing JSON would change', () => {
    for (const odd of [Infinity, -Infinity, NaN, -0]) {
      const { cache, file } = memoryCache();
      cache.keep('t', { stages: [10, odd] });
      expect(file.writes).toBe(0);
    }
  });

  it('reads a damaged entry as none: cut short, any one character changed, or no plan', () => {
    const { cache, file } = memoryCache();
    cache.keep('t', { stages: [10, 100], url: 'http://127.0.0.1:9/a' });
    const whole = file.bytes!.toString('utf8');
    expect(memoryCache(whole).cache.read('t')).toEqual({ stages: [10, 100], url: 'http://127.0.0.1:9/a' });
    for (let at = 0; at < whole.length; at++) {
      const changed = whole.slice(0, at) + String.fromCharCode(whole.charCodeAt(at) ^ 1) + whole.slice(at + 1);
      expect(memoryCache(changed).cache.read('t'), `character ${at} changed`).toBeUndefined();
    }
    for (const damaged of ['', '\n', whole.slice(0, -1), whole.slice(whole.indexOf('\n') + 1), `${whole}\n`, `${whole.slice(0, whole.indexOf('\n'))}`]) {
      expect(memoryCache(damaged).cache.read('t')).toBeUndefined();
    }
    // Whole, but no entry of a plan (a mapping): none.
    for (const json of ['null', '[]', '"t"', '{"data": 1}', '{"text": "t", "data": null}', '{"text": "t", "data": [1]}', '{"text": "t", "data": "x"}']) {
      expect(memoryCache(`${json}\n${json}`).cache.read('t'), json).toBeUndefined();
    }
  });

  it('keeps no data that holds itself, nor data many times the size of the plan', () => {
    const { cache, file } = memoryCache();
    const endless: Record<string, unknown> = { a: 1 };
    endless.self = endless;
    expect(() => cache.keep('t', endless)).not.toThrow();
    const large = 'x'.repeat(10_000);
    cache.keep(`a: &s ${large}\nb: *s\nc: *s\nd: *s\ne: *s\nf: *s\n`, { a: large, b: large, c: large, d: large, e: large, f: large });
    expect(file.writes).toBe(0);
    cache.keep(`a: &s ${large}\nb: *s\n`, { a: large, b: large });
    expect(file.writes).toBe(1);
  });

  it('does not even write out data far larger than the plan (a hundred aliases of a large value)', () => {
    const { cache, file } = memoryCache();
    let writtenOut = false;
    const large = 'x'.repeat(100_000);
    const data = Object.fromEntries([...Array.from({ length: 100 }, (_, i) => [`a${i}`, large]), ['last', { toJSON: () => ((writtenOut = true), 1) }]]);
    cache.keep(`a0: &s ${large}\n${Array.from({ length: 99 }, (_, i) => `a${i + 1}: *s\n`).join('')}`, data);
    expect(writtenOut).toBe(false);
    expect(file.writes).toBe(0);
  });
});

describe('parsePlan through the plan cache', () => {
  const examples = fileURLToPath(new URL('../../rollout-plans/', import.meta.url));
  const env = new Proxy({}, { get: (_t, name) => (typeof name === 'string' && /^[A-Z_][A-Z0-9_]*$/.test(name) ? `value-of-${name}-0123456789` : undefined) }) as NodeJS.ProcessEnv;

  it('gives the plan parsing gives, for every example plan', async () => {
    for (const name of readdirSync(examples).filter((f) => f.endsWith('.yaml'))) {
      const text = readFileSync(join(examples, name), 'utf8');
      const { cache, file } = memoryCache();
      const parsed = await parsePlan(text, name, { env, secrets: new Secrets(), parseCache: cache });
      expect(file.writes, name).toBe(1);
      const cached = await parsePlan(text, name, { env, secrets: new Secrets(), parseCache: cache });
      expect(file.writes, name).toBe(1);
      expect({ ...cached, record: { ...cached.record, sha256: cached.record?.sha256 } }).toEqual({ ...parsed, record: { ...parsed.record, sha256: parsed.record?.sha256 } });
      expect(file.bytes!.toString()).not.toContain('value-of-');
    }
  });

  it('locates the problems of a plan read from the cache as parsing does', async () => {
    const text = 'version: 1\nname: broken\nstages: [10, 100]\nbake: 5m\ntarget:\n  type: env-file\n  path: .env\n  key: PERCENT\n  extra: ${UNSET_VAR}\n';
    const problems = async (options: Parameters<typeof parsePlan>[2]) => {
      try {
        await parsePlan(text, 'plan.yaml', { env: {}, secrets: new Secrets(), ...options });
        return [];
      } catch (err) {
        if (!(err instanceof PlanError)) throw err;
        return err.problems;
      }
    };
    const reference = await problems({});
    expect(reference.map((p) => `${p.line}:${p.col}`)).toEqual(['4:1', '9:3', '9:10']);
    const { cache, file } = memoryCache();
    expect(await problems({ parseCache: cache })).toEqual(reference);
    expect(file.writes).toBe(1);
    expect(await problems({ parseCache: cache })).toEqual(reference);
  });
});
