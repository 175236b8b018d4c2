import { describe, expect, it } from 'vitest';
import { interpolate, type UnsetVariable } from '../../src/plan/interpolate.js';
import { Secrets } from '../../src/plan/secrets.js';

describe('interpolate', () => {
  it('replaces set variables everywhere and remembers each value as a secret', () => {
    const secrets = new Secrets();
    const unset: UnsetVariable[] = [];
    const out = interpolate(
      { a: 'Bearer ${TOKEN}', list: ['${HOST}:9090', 3], nested: { b: '${TOKEN}${TOKEN}' } },
      { TOKEN: 's3cr3t', HOST: 'prom.internal' },
      secrets,
      unset,
    );
    expect(out).toEqual({ a: 'Bearer s3cr3t', list: ['prom.internal:9090', 3], nested: { b: 's3cr3ts3cr3t' } });
    expect(unset).toEqual([]);
    expect(secrets.redact('token s3cr3t at prom.internal')).toBe('token *** at ***');
  });

  it('reports each unset variable with the path of its string', () => {
    const unset: UnsetVariable[] = [];
    interpolate({ target: { set: { headers: { Authorization: 'Bearer ${FLAG_TOKEN}' } } }, n: ['${A}'] }, {}, new Secrets(), unset);
    expect(unset).toEqual([
      { path: ['target', 'set', 'headers', 'Authorization'], name: 'FLAG_TOKEN' },
      { path: ['n', 0], name: 'A' },
    ]);
  });

  it('keeps $${VAR} as a literal ${VAR} and leaves lone dollars alone', () => {
    const secrets = new Secrets();
    const out = interpolate({ a: 'cost $5, keep $${HOME}, ${X}' }, { X: 'ex', HOME: '/root' }, secrets, []);
    expect(out).toEqual({ a: 'cost $5, keep ${HOME}, ex' });
  });

  it('treats an empty variable as set', () => {
    const unset: UnsetVariable[] = [];
    expect(interpolate('a${EMPTY}b', { EMPTY: '' }, new Secrets(), unset)).toBe('ab');
    expect(unset).toEqual([]);
  });

  it('keeps a __proto__ key as a plain key', () => {
    const out = interpolate(JSON.parse('{"__proto__": {"polluted": true}}'), {}, new Secrets(), []) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('Secrets.redact', () => {
  it('redacts URL-encoded forms and overlapping values, longest first', () => {
    const secrets = new Secrets();
    secrets.add('a b&c');
    secrets.add('abc');
    secrets.add('abcdef');
    expect(secrets.redact('x?t=a%20b%26c y=abcdef z=abc')).toBe('x?t=*** y=*** z=***');
  });

  it('ignores values too short to be secret', () => {
    const secrets = new Secrets();
    secrets.add('1');
    expect(secrets.redact('10 20 1')).toBe('10 20 1');
  });
});

describe('Secrets.redactDeep', () => {
  it('redacts strings and keys, leaving numbers that look like a secret alone', () => {
    const secrets = new Secrets();
    secrets.add('100');
    secrets.add('tok-9');
    expect(secrets.redactDeep({ percent: 100, note: 'tok-9 at 100%', list: ['x tok-9'], 'tok-9': 1 })).toEqual({ percent: 100, note: '*** at ***%', list: ['x ***'], '***': 1 });
  });
});
