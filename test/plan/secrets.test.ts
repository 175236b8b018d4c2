/** Secrets are registered with every form they take on the way out, and redacted in each. */
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../src/cli/deployment-report.js';
import { reportDocument } from '../../src/cli/json-documents.js';
import { annotation } from '../../src/cli/github-actions.js';
import { describeUrl } from '../../src/net/http.js';
import { interpolate, type InterpolationReport } from '../../src/plan/interpolate.js';
import { isTooShortToRedact, processSecrets, Secrets } from '../../src/plan/secrets.js';
import type { HistoryEvent } from '../../src/state/types.js';
import { planFromYaml } from '../helpers/plan.js';

function secretsOf(...values: string[]): Secrets {
  const secrets = new Secrets();
  for (const value of values) secrets.add(value);
  return secrets;
}

describe('Secrets.add registers the forms a value takes', () => {
  it.each([
    ['a trailing newline', 'https://hooks.example.com/services/T0/B0/XyZ\n', (v: string) => v.trim()],
    ['the default port', 'https://hooks.example.com:443/services/T0/B0/XyZ', (v: string) => describeUrl(v)],
    ['an upper-case scheme and host', 'HTTPS://Hooks.Example.COM/services/T0/B0/XyZ', (v: string) => describeUrl(v)],
    ['a query, dropped from messages', 'https://hooks.example.com/services/T0/B0/XyZ?sig=1', (v: string) => `POST ${describeUrl(v)} failed`],
    ['all of these at once', 'HTTPS://Hooks.Example.com:443/services/T0/B0/XyZ?sig=1\n', (v: string) => `to ${describeUrl(v)} and ${new URL(v.trim()).href}`],
  ])('a whole URL normalised: %s', (_what, value, shown) => {
    const text = shown(value);
    expect(text).toContain('XyZ');
    expect(secretsOf(value).redact(text)).not.toContain('XyZ');
  });

  it.each([
    ['percent-encoded', 'a b/c&d', `?t=${encodeURIComponent('a b/c&d')}&x`, '?t=***&x'],
    ['percent-encoded with lower-case hex', 'a b/c&d', '?t=a%20b%2fc%26d&x', '?t=***&x'],
    ['in a URL path', 'a b/c"d', new URL('http://h/x/a b/c"d').pathname, '/x/***'],
    ['form-encoded', 'a b+c&d', new URLSearchParams({ t: 'a b+c&d' }).toString(), 't=***'],
    ['JSON-escaped', 'to"k\\en', JSON.stringify({ got: 'Bearer to"k\\en' }), '{"got":"Bearer ***"}'],
    ['JSON-escaped twice', 'to"k\\en', JSON.stringify({ error: JSON.stringify({ got: 'to"k\\en' }) }), '{"error":"{\\"got\\":\\"***\\"}"}'],
    ['in base64', 'tok-12345', `x-token: ${Buffer.from('tok-12345').toString('base64')}`, 'x-token: ***'],
    ['escaped for a workflow command', 'to%k\nen', '::warning::to%25k%0Aen', '::warning::***'],
  ])('%s', (_what, value, text, redacted) => {
    expect(text).not.toBe(redacted);
    expect(secretsOf(value).redact(text)).toBe(redacted);
  });

  it('registers the basic credentials of a URL: password, base64 of user:password and the Basic header', () => {
    const secrets = new Secrets();
    secrets.addUrlCredentials(new URL('http://admin:p%40ss-w0rd1@db.example.com/'));
    const basic = Buffer.from('admin:p@ss-w0rd1').toString('base64');
    expect(basic).toMatch(/=$/);
    expect(secrets.redact(`password p@ss-w0rd1, header Basic ${basic}; echoed /login/${encodeURIComponent(`Basic ${basic}`)}x`)).toBe(
      'password ***, header ***; echoed /login/***x',
    );
    // Without its padding, as it appears inside longer base64 or before a percent-encoded "=".
    expect(secrets.redact(`auth=${basic.replace(/=+$/, '')}%3d`)).toBe('auth=***%3d');
  });

  it('ignores values of 1 or 2 characters, which would shred unrelated text', () => {
    expect(isTooShortToRedact('80')).toBe(true);
    expect(isTooShortToRedact(' x\n')).toBe(true);
    expect(isTooShortToRedact('abc')).toBe(false);
    expect(isTooShortToRedact('')).toBe(false);
    expect(secretsOf('80', 'x').redact('80% of x-ray at 10:80')).toBe('80% of x-ray at 10:80');
  });
});

describe('interpolate', () => {
  const report = (): InterpolationReport => ({ unset: [], tooShort: [] });

  it('reports a value too short to redact, and hides the whole string it went into instead', () => {
    const secrets = new Secrets();
    const found = report();
    const out = interpolate({ source: { url: 'http://db.internal:${PORT}/metrics', headers: { Authorization: 'Bearer ${PIN}' } } }, { PORT: '80', PIN: 'z9' }, secrets, found);
    expect(out).toEqual({ source: { url: 'http://db.internal:80/metrics', headers: { Authorization: 'Bearer z9' } } });
    expect(found.tooShort).toEqual([
      { path: ['source', 'url'], name: 'PORT', length: 2 },
      { path: ['source', 'headers', 'Authorization'], name: 'PIN', length: 2 },
    ]);
    expect(secrets.redact('sent Bearer z9 to http://db.internal:80/metrics; 80% done')).toBe('sent *** to ***; 80% done');
  });

  it('registers the credentials of every URL in the plan, literal or interpolated', () => {
    const secrets = new Secrets();
    interpolate({ a: 'http://admin:${PASS}@h1/x', b: 'https://reader:l1teral-pw@h2/y' }, { PASS: 'from-env-pw' }, secrets, report());
    for (const [user, password] of [['admin', 'from-env-pw'], ['reader', 'l1teral-pw']]) {
      const basic = Buffer.from(`${user}:${password}`).toString('base64');
      expect(secrets.redact(`Basic ${basic} ${password}`)).toBe('*** ***');
    }
  });
});

describe('redaction before escaping', () => {
  it('an annotation hides a secret whose ":", "," or "%" the workflow-command escaping would rewrite', () => {
    processSecrets.add('ann0t:50%,tok');
    const line = annotation('warning', 'rollout x: ann0t:50%,tok held', 'reason ann0t:50%,tok at 5%');
    expect(line).toBe('::warning title=rollout x%3A *** held::reason *** at 5%25');
  });

  it('a report hides a secret in history that predates its registration, before XML or Markdown escaping', async () => {
    const plan = await planFromYaml(`
version: 1
name: rep
description: "owner \${OWNER}"
stages: [10, 100]
target: { type: command, set: [echo, "{{percent}}"] }
`, { env: { OWNER: 'Ow"ner|&<tok>' } });
    const secret = 'Ow"ner|&<tok>';
    const events: HistoryEvent[] = [
      { time: '2025-01-01T00:00:00.000Z', plan: 'rep', actor: 'ci', action: 'start', from: 0, to: 10, metrics: { [`m ${secret}`]: 1 }, reason: 'start' },
      { time: '2025-01-01T00:01:00.000Z', plan: 'rep', actor: 'ci', action: 'rollback', from: 10, to: 0, metrics: { [`m ${secret}`]: 2 }, reason: `bad ${secret}` },
    ];
    for (const text of [renderReport(plan, events, 'markdown'), renderReport(plan, events, 'junit'), JSON.stringify(reportDocument(plan, events))]) {
      expect(text).toContain('***');
      expect(text).not.toMatch(/tok/);
    }
  });
});
