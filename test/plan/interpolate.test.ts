import { describe, expect, it } from 'vitest';
import { interpolate, type InterpolationReport } from '../../src/plan/interpolate.js';
import { Secrets } from '../../src/plan/secrets.js';

const report = (): InterpolationReport => ({ unset: [], tooShort: [] });

describe('interpolate', () => {
  it('replaces set variables everywhere and remembers each value as a secret', () => {
    const secrets = new Secrets();
    const found = report();
    const out = interpolate(
      { a: 'Bearer ${TOKEN}', list: ['${HOST}:9090', 3], nested: { b: '${TOKEN}${TOKEN}' } },
      { TOKEN: 's3cr3t', HOST: 'prom.internal' },
      secrets,
      found,
    );
    expect(out).toEqual({ a: 'Bearer s3cr3t', list: ['prom.internal:9090', 3], nested: { b: 's3cr3ts3cr3t' } });
    expect(found).toEqual(report());
    expect(secrets.redact('token s3cr3t at prom.internal')).toBe('token *** at ***');
  });

  it('reports each unset variable with the path of its string', () => {
    const found = report();
    interpolate({ target: { set: { headers: { Authorization: 'Bearer ${FLAG_TOKEN}' } } }, n: ['${A}'] }, {}, new Secrets(), found);
    expect(found.unset).toEqual([
      { path: ['target', 'set', 'headers', 'Authorization'], name: 'FLAG_TOKEN' },
      { path: ['n', 0], name: 'A' },
    ]);
  });

  it('keeps $${VAR} as a literal ${VAR} and leaves lone dollars alone', () => {
    const secrets = new Secrets();
    const out = interpolate({ a: 'cost $5, keep $${HOME}, ${X}' }, { X: 'ex', HOME: '/root' }, secrets, report());
    expect(out).toEqual({ a: 'cost $5, keep ${HOME}, ex' });
  });

  it('treats an empty variable as set', () => {
    const found = report();
    expect(interpolate('a${EMPTY}b', { EMPTY: '' }, new Secrets(), found)).toBe('ab');
    expect(found).toEqual(report());
  });

  it('keeps a __proto__ key as a plain key', () => {
    const out = interpolate(JSON.parse('{"__proto__": {"polluted": true}}'), {}, new Secrets(), report()) as Record<string, unknown>;
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
});

describe('Secrets.redactDeep', () => {
  it('redacts strings and keys, leaving numbers that look like a secret alone', () => {
    const secrets = new Secrets();
    secrets.add('100');
    secrets.add('tok-9');
    expect(secrets.redactDeep({ percent: 100, note: 'tok-9 at 100%', list: ['x tok-9'], 'tok-9': 1 })).toEqual({ percent: 100, note: '*** at ***%', list: ['x ***'], '***': 1 });
  });
});
