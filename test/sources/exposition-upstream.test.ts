/**
 * The official exposition test inputs (test/fixtures/exposition/upstream-cases.ts): every page
 * Prometheus reads yields its series, and every page it refuses reads as no data, through the
 * parser and through the source. test/sources/exposition-agreement.test.ts checks the verdicts
 * against a running Prometheus.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createExpositionSource } from '../../src/sources/exposition.js';
import { parseExposition } from '../../src/sources/exposition/parse.js';
import { NoDataError } from '../../src/sources/source.js';
import { bytesOf, CASES, type ExpectedSeries } from '../fixtures/exposition/upstream-cases.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';

/** Series in a stable order, values as text (so NaN compares), for comparing sets of series. */
function normalized(series: ExpectedSeries[]): string[] {
  return series.map(([name, labels, value]) => JSON.stringify([name, Object.entries(labels).sort(), String(value)])).sort();
}

describe('the upstream exposition cases', () => {
  it('cover both parsers, both verdicts', () => {
    expect(new Set(CASES.map((c) => c.source))).toEqual(new Set(['expfmt', 'promparse', 'measured']));
    expect(CASES.filter((c) => c.expected === 'rejected').length).toBeGreaterThan(40);
    expect(CASES.filter((c) => c.expected !== 'rejected').length).toBeGreaterThan(30);
  });

  it.each(CASES.map((c) => [`${c.source} ${c.name}`, c] as const))('parses %s as Prometheus does', (_, c) => {
    const page = parseExposition(bytesOf(c));
    if (c.expected === 'rejected') {
      expect(page.problems, 'the page has a problem').toBeGreaterThan(0);
      return;
    }
    expect(page.firstProblem).toBeUndefined();
    const read: ExpectedSeries[] = [...page.series].flatMap(([name, samples]) => samples.labels.map((labels, i): ExpectedSeries => [name, { ...labels }, samples.values[i]!]));
    expect(normalized(read)).toEqual(normalized(c.expected));
  });

  describe('through the source', () => {
    let server: TestServer;
    let served: Buffer;
    beforeAll(async () => {
      server = await startTestServer((_req, res) => void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(served));
    });
    afterAll(() => server.close());

    it('reads no data, with the line and what is wrong, from every page Prometheus refuses; reads the others', async () => {
      const scrapeDir = mkdtempSync(join(tmpdir(), 'rollout-upstream-'));
      for (const c of CASES) {
        served = bytesOf(c);
        const source = createExpositionSource(
          { type: 'exposition', name: 'page', url: `${server.url}/metrics`, headers: {}, timeoutMs: 5000 },
          { expressions: ['sum(absent_metric)'], scrapeFile: join(scrapeDir, 'scrape.json'), clock: systemClock },
        );
        const reason = await source.measure('sum(absent_metric)', AbortSignal.timeout(5000)).then(
          (value) => `read ${value}`,
          (err: unknown) => (err instanceof NoDataError ? err.reason : String(err)),
        );
        if (c.expected === 'rejected') expect(reason, c.name).toMatch(/^not a page Prometheus would accept: .* line \d+: /);
        else expect(reason, c.name).toMatch(/^empty result \(no series named absent_metric on the page\)$/);
      }
    });
  });
});
