import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import type { HttpSourceConfig } from '../../src/sources/kinds/http-source.js';
import { createExpositionSource, type ExpositionSourceOptions } from '../../src/sources/exposition.js';
import { NoDataError, type MetricSource } from '../../src/sources/source.js';
import { closedPort, startTestServer, type Handler, type TestServer } from '../helpers/http-server.js';

const ERROR_RATIO =
  'sum(increase(http_requests_total{variant="canary",status=~"5.."})) / sum(increase(http_requests_total{variant="canary"}))';
const REQUEST_RATE = 'sum(rate(http_requests_total{variant="canary"}[5m]))';
const OPEN_FDS = 'process_open_fds';
const EXPRESSIONS = [ERROR_RATIO, REQUEST_RATE, OPEN_FDS];

/** A page as an app would serve it: the canary's counters, and series no expression reads. */
function page(ok: number, errors: number): string {
  return [
    '# TYPE http_requests_total counter',
    `http_requests_total{variant="canary",status="200"} ${ok}`,
    `http_requests_total{variant="canary",status="500"} ${errors}`,
    'http_requests_total{variant="stable",status="200"} 5',
    '# TYPE go_goroutines gauge',
    'go_goroutines 12',
    'process_open_fds 9',
    '',
  ].join('\n');
}

const signal = new AbortController().signal;

async function reason(read: Promise<number>): Promise<string> {
  const err: unknown = await read.then(
    (value) => new Error(`read ${value}`),
    (e: unknown) => e,
  );
  if (err instanceof NoDataError) return err.reason;
  throw err;
}

describe('exposition source', () => {
  let server: TestServer;
  let dir: string;
  let now: number;
  let current: string;
  const clock: Clock = { now: () => now, monotonic: () => now, sleep: async () => undefined };

  /** Arranges for the server to answer with this status, content type and body. */
  const answering = (status: number, type: string, body: string) => async () => {
    server.handle((_req, res) => void res.writeHead(status, { 'content-type': type }).end(body));
    return {};
  };
  const servePage: Handler = (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(current);

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollout-exposition-'));
    now = Date.UTC(2025, 0, 1);
    current = page(1000, 10);
    server.requests.length = 0;
    server.handle(servePage);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const config = (overrides: Partial<HttpSourceConfig> = {}): HttpSourceConfig => ({
    type: 'exposition',
    name: 'scrape',
    url: `${server.url}/metrics`,
    headers: { Authorization: 'Bearer s3cret' },
    timeoutMs: 2000,
    ...overrides,
  });
  const source = (overrides: Partial<HttpSourceConfig> = {}, options: Partial<ExpositionSourceOptions> = {}): MetricSource =>
    createExpositionSource(config(overrides), { expressions: EXPRESSIONS, scrapeFile: join(dir, 'scrape.json'), clock, ...options });

  it('warms up on the first poll, then reads rates across two processes through the scrape file', async () => {
    const first = source();
    const reads = await Promise.allSettled([first.measure(ERROR_RATIO, signal), first.measure(REQUEST_RATE, signal), first.measure(OPEN_FDS, signal)]);
    expect(reads.map((r) => (r.status === 'rejected' ? (r.reason as NoDataError).reason : r.value))).toEqual([
      'warming up: needs a second scrape',
      'warming up: needs a second scrape',
      9,
    ]);
    expect(server.requests).toHaveLength(1); // one scrape per poll, shared by its metrics
    expect(server.requests[0]?.headers).toMatchObject({ authorization: 'Bearer s3cret', accept: expect.stringContaining('text/plain;version=0.0.4') });
    await first.finishPoll?.();

    const saved = JSON.parse(await readFile(join(dir, 'scrape.json'), 'utf8')) as { timestamp: number; series: Record<string, unknown> };
    expect(saved.timestamp).toBe(now);
    expect(Object.keys(saved.series).sort()).toEqual(['http_requests_total', 'process_open_fds']); // not go_goroutines
    expect(JSON.stringify(saved)).not.toContain('s3cret');
    expect(await readdir(dir)).toEqual(['scrape.json']); // no temp file left

    // A second process a minute later: 600 more canary requests, 30 of them errors.
    now += 60_000;
    current = page(1570, 40);
    const second = source();
    expect(await second.measure(ERROR_RATIO, signal)).toBeCloseTo(30 / 600, 12);
    expect(await second.measure(REQUEST_RATE, signal)).toBeCloseTo(10, 12);
    await second.finishPoll?.();

    // The next poll of the same process scrapes again and compares with the last one.
    now += 30_000;
    current = page(1600, 40);
    expect(await second.measure(ERROR_RATIO, signal)).toBe(0);
    expect(await second.measure(REQUEST_RATE, signal)).toBeCloseTo(1, 12);
    expect(server.requests).toHaveLength(3);
  });

  it('sends credentials written into the URL as a Basic header, never in a reason', async () => {
    const withUser = config({ url: `${server.url.replace('http://', 'http://scraper:p%40ss@')}/metrics`, headers: {} });
    const source = createExpositionSource(withUser, { expressions: ['sum(rate(http_requests_total))'], scrapeFile: join(dir, 'scrape.json'), clock });
    await expect(source.measure('sum(rate(http_requests_total))', AbortSignal.timeout(2000))).rejects.toThrow(/warming up/);
    expect(server.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('scraper:p@ss').toString('base64')}`);
  });

  it('keeps the last good scrape when a poll fails', async () => {
    const app = source();
    await app.measure(OPEN_FDS, signal);
    await app.finishPoll?.();
    server.handle((_req, res) => void res.writeHead(503).end('down'));
    now += 60_000;
    expect(await reason(app.measure(ERROR_RATIO, signal))).toBe(`HTTP 503 from ${server.url}/metrics`);
    await app.finishPoll?.();
    server.handle(servePage);
    current = page(1100, 20);
    now += 60_000;
    expect(await app.measure(ERROR_RATIO, signal)).toBeCloseTo(10 / 110, 12);
    expect(await source().measure(REQUEST_RATE, signal)).toBeCloseTo(110 / 120, 12); // the file too
  });

  it.each([
    ['a corrupt file', async (file: string) => writeFile(file, '{"version":1,"url":')],
    ['a scrape of another URL', async (file: string) => writeFile(file, (await readFile(file, 'utf8')).replace(/"url":"[^"]*"/, '"url":"0000"'))],
    [
      'a scrape without a series now needed',
      async (file: string) => {
        const saved = JSON.parse(await readFile(file, 'utf8')) as { names: string[] };
        saved.names = saved.names.filter((name) => name !== 'http_requests_total');
        await writeFile(file, JSON.stringify(saved));
      },
    ],
  ])('warms up again from %s', async (_, spoil) => {
    const app = source();
    await app.measure(OPEN_FDS, signal);
    await app.finishPoll?.();
    await spoil(join(dir, 'scrape.json'));
    now += 60_000;
    expect(await reason(source().measure(ERROR_RATIO, signal))).toBe('warming up: needs a second scrape');
  });

  it.each<[string, () => Promise<{ config?: Partial<HttpSourceConfig>; options?: Partial<ExpositionSourceOptions> }>, string | RegExp]>([
    ['HTTP 500', answering(500, 'text/plain', 'boom'), 'HTTP 500 from URL'],
    [
      'an HTML page',
      answering(200, 'text/html; charset=utf-8', '<html><title>Sign in</title></html>'),
      'an HTML page, not Prometheus text format (a login page or proxy error?) from URL',
    ],
    [
      'an HTML page served as text',
      answering(200, 'text/plain', '<!doctype html>\n<html>\n'),
      'not Prometheus text format: URL line 1: expected a metric name, found "<!doctype html>" (and 1 more bad lines)',
    ],
    [
      'a broken line in a series it needs',
      async () => {
        current = page(1, 1).replace('status="500"}', 'status="500"');
        return {};
      },
      'not Prometheus text format: URL line 3: expected "," or "}" after the value of status, found "1"',
    ],
    ['a port where nothing listens', async () => ({ config: { url: `http://127.0.0.1:${await closedPort()}/metrics` } }), /^GET http:\/\/127\.0\.0\.1:\d+\/metrics: connection refused$/],
    [
      'a server that does not answer in time',
      async () => {
        server.handle(() => undefined);
        return { config: { timeoutMs: 200 } };
      },
      'timeout after 200 ms: GET URL',
    ],
    [
      'a page that drips past the deadline',
      async () => {
        server.handle((_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('# TYPE go_goroutines gauge\n');
        });
        return { config: { timeoutMs: 200 } };
      },
      'timeout after 200 ms: GET URL',
    ],
    [
      'a page over the size cap, streamed',
      async () => {
        server.handle((_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          for (let i = 0; i < 100; i++) res.write(`go_goroutines{i="${i}"} 1\n`.padEnd(100, ' '));
          res.end();
        });
        return { options: { maxBytes: 1000 } };
      },
      'GET URL: response is over the 1000-byte cap',
    ],
    [
      'a page declared over the size cap',
      async () => {
        server.handle((_req, res) => void res.writeHead(200, { 'content-length': Buffer.byteLength(current) }).end(current));
        return { options: { maxBytes: 100 } };
      },
      /^GET URL: response of \d+ bytes is over the 100-byte cap$/,
    ],
  ])('reads nodata from %s, naming the URL without its query or credentials', async (_, arrange, expected) => {
    const { config: overrides = {}, options = {} } = await arrange();
    const url = new URL(overrides.url ?? `${server.url}/metrics`);
    url.search = '?token=hunter2';
    url.username = 'user';
    url.password = 'pa55';
    const read = await reason(source({ ...overrides, url: url.toString() }, options).measure(ERROR_RATIO, signal));
    const where = `${url.protocol}//${url.host}${url.pathname}`;
    if (typeof expected === 'string') expect(read).toBe(expected.replace('URL', where));
    else expect(read).toMatch(new RegExp(expected.source.replace('URL', where.replace(/[.]/g, '\\.'))));
    expect(read).not.toMatch(/hunter2|pa55|user@/);
  });

  it('reads nodata for an expression it cannot parse or was not made with', async () => {
    const app = source();
    expect(await reason(app.measure('sum(rate(x[5m]) ', signal))).toBe('invalid expression: expected ")", found the end of the expression (at offset 16)');
    expect(await reason(app.measure('sum(other_total)', signal))).toBe(
      `other_total is not kept from ${server.url}/metrics: the expression was not given when the source was made`,
    );
    expect(server.requests).toHaveLength(0);
  });

  it('does not fail a poll that read nothing, and leaves no file', async () => {
    await source().finishPoll?.();
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails finishing a poll whose scrape cannot be saved, naming the file', async () => {
    const file = join(dir, 'state', 'scrape.json');
    const app = source({}, { scrapeFile: file });
    await app.measure(OPEN_FDS, signal);
    await writeFile(join(dir, 'state'), 'a file where the directory should be');
    await expect(app.finishPoll?.()).rejects.toThrow(`cannot save the scrape of ${server.url}/metrics to ${file}`);
  });

  it('reads nodata when the scrape file cannot be read', async () => {
    await writeFile(join(dir, 'state'), 'a file where the directory should be');
    const read = await reason(source({}, { scrapeFile: join(dir, 'state', 'scrape.json') }).measure(ERROR_RATIO, signal));
    expect(read).toMatch(/^cannot read the previous scrape .*ENOTDIR/);
  });
});
