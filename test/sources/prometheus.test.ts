import { describe, expect, it } from 'vitest';
import type { HttpSourceConfig } from '../../src/sources/kinds/http-source.js';
import { createPrometheusSource } from '../../src/sources/prometheus.js';
import type { NoDataError } from '../../src/sources/source.js';
import { closedPort, sendJson, useTestServer, type Handler } from '../helpers/http-server.js';

const QUERY = 'sum(rate(http_requests_total{variant="canary",status=~"5.."}[5m])) / sum(rate(http_requests_total{variant="canary"}[5m]))';
const TOKEN = 'tok-3f9a7c1e';

const local = useTestServer();

function config(overrides: Partial<HttpSourceConfig> = {}): HttpSourceConfig {
  return { type: 'prometheus', name: 'prom', url: local.server.url, headers: {}, timeoutMs: 2000, ...overrides };
}

function measure(overrides: Partial<HttpSourceConfig> = {}, query = QUERY): Promise<number> {
  return createPrometheusSource(config(overrides)).measure(query, new AbortController().signal);
}


const vector = (...values: string[]) => ({
  status: 'success',
  data: { resultType: 'vector', result: values.map((v, i) => ({ metric: { pod: `p${i}` }, value: [1700000000.123, v] })) },
});
const answer =
  (body: unknown, status = 200): Handler =>
  (_req, res) =>
    sendJson(res, status, body);

describe('prometheus source: the request', () => {
  it('sends the query to /api/v1/query, URL-encoded', async () => {
    local.server.handle(answer(vector('0.25')));
    await expect(measure()).resolves.toBe(0.25);
    expect(local.server.requests).toHaveLength(1);
    const sent = new URL(local.server.requests[0]!.url, local.server.url);
    expect(local.server.requests[0]!.method).toBe('GET');
    expect(sent.pathname).toBe('/api/v1/query');
    expect(sent.searchParams.get('query')).toBe(QUERY);
    expect([...sent.searchParams.keys()]).toEqual(['query']);
  });

  it('sends the configured headers (bearer auth, tenant)', async () => {
    local.server.handle(answer(vector('1')));
    await measure({ headers: { Authorization: `Bearer ${TOKEN}`, 'X-Scope-OrgID': 'team-a' } });
    expect(local.server.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(local.server.requests[0]!.headers['x-scope-orgid']).toBe('team-a');
  });

  it('turns user:pass@ in the URL into a Basic header', async () => {
    local.server.handle(answer(vector('1')));
    await measure({ url: local.server.url.replace('http://', 'http://ops:p%40ss%3Aword@') });
    expect(local.server.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('ops:p@ss:word').toString('base64')}`);
  });

  it('lets an explicit Authorization header win over URL credentials', async () => {
    local.server.handle(answer(vector('1')));
    await measure({ url: local.server.url.replace('http://', 'http://ops:pw@'), headers: { authorization: `Bearer ${TOKEN}` } });
    expect(local.server.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it.each([
    ['/prometheus', '/prometheus/api/v1/query'],
    ['/prometheus/', '/prometheus/api/v1/query'],
    ['/select/0/prometheus', '/select/0/prometheus/api/v1/query'],
  ])('keeps the path prefix %s (Thanos, Mimir, VictoriaMetrics)', async (prefix, path) => {
    local.server.handle(answer(vector('1')));
    await measure({ url: `${local.server.url}${prefix}` });
    expect(new URL(local.server.requests[0]!.url, local.server.url).pathname).toBe(path);
  });

  it('keeps query parameters of the base URL', async () => {
    local.server.handle(answer(vector('1')));
    await measure({ url: `${local.server.url}/?tenant=a` });
    const sent = new URL(local.server.requests[0]!.url, local.server.url);
    expect(sent.searchParams.get('tenant')).toBe('a');
    expect(sent.searchParams.get('query')).toBe(QUERY);
  });
});

describe('prometheus source: results', () => {
  it.each<[string, unknown, number]>([
    ['a one-sample vector', vector('0.0123'), 0.0123],
    ['a vector in exponent notation', vector('1.5e-3'), 0.0015],
    ['a vector of 0', vector('0'), 0],
    ['a scalar', { status: 'success', data: { resultType: 'scalar', result: [1700000000, '42'] } }, 42],
    ['a success with warnings', { ...vector('7'), warnings: ['partial response'] }, 7],
  ])('reads %s', async (_name, body, value) => {
    local.server.handle(answer(body));
    await expect(measure()).resolves.toBe(value);
  });
});

describe('prometheus source: no data', () => {
  const html = '<!DOCTYPE html><html><head><title>Sign in</title></head><body>login</body></html>';
  it.each<[string, Handler, string | RegExp]>([
    ['an empty vector', answer(vector()), 'empty result: the query matched no series'],
    ['several series', answer(vector('1', '2', '3')), 'query returned 3 series; aggregate it, e.g. sum(...)'],
    ['NaN', answer(vector('NaN')), 'value is NaN (a ratio over no traffic?)'],
    ['+Inf', answer(vector('+Inf')), 'value is +Inf (a division by zero?)'],
    ['-Inf', answer(vector('-Inf')), 'value is -Inf (a division by zero?)'],
    ['a scalar NaN', answer({ status: 'success', data: { resultType: 'scalar', result: [1, 'NaN'] } }), 'value is NaN'],
    [
      'a matrix',
      answer({ status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[1, '1']] }] } }),
      'query returned a range vector (matrix); drop the [range] or wrap it, e.g. rate(x[5m])',
    ],
    ['a string', answer({ status: 'success', data: { resultType: 'string', result: [1, 'hello'] } }), 'query returned a string, not a number'],
    [
      'status "error" with HTTP 200',
      answer({ status: 'error', errorType: 'execution', error: 'query timed out in expression evaluation' }),
      'Prometheus error execution: query timed out in expression evaluation',
    ],
    [
      'a bad query (HTTP 400)',
      answer({ status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:5: parse error' }, 400),
      /^HTTP 400 from http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query: bad_data: invalid parameter "query": 1:5: parse error$/,
    ],
    ['HTTP 500 with a text body', (_r, res) => void res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n  while reading\n'), /^HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query: internal error while reading$/],
    ['HTTP 503 with no body', (_r, res) => void res.writeHead(503).end(), /^HTTP 503 from http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query$/],
    ['an HTML page with HTTP 200', (_r, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end(html), /^HTML page instead of JSON from http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query \(a login page or proxy error\?\)$/],
    ['an HTML page without content type', (_r, res) => void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(html), 'HTML page instead of JSON'],
    ['an HTML proxy error', (_r, res) => void res.writeHead(502, { 'content-type': 'text/html' }).end('<html><title>502 Bad Gateway</title></html>'), /^HTTP 502 from .*: HTML page "502 Bad Gateway" \(a login page or proxy error\?\)$/],
    ['a redirect to a login page', (_r, res) => void res.writeHead(302, { location: 'https://sso.example.com/login?next=/x&sig=abc' }).end(), /^GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query: answered 302, a redirect to another origin \(a login page\?\), not followed so that the request's credentials go nowhere else$/],
    ['a body that is not JSON', (_r, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('up 1\nfoo 2'), /^not JSON from http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query: up 1 foo 2$/],
    ['an empty body', (_r, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(''), 'not JSON from http://127.0.0.1'],
    ['JSON that is not a Prometheus answer', answer({ dashboards: [] }), 'not a Prometheus API answer (no status/data): is the url the Prometheus base URL?'],
    ['a body over the size cap', (_r, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.alloc(11 * 1024 * 1024, 32)), /over the \d+-byte cap/],
  ])('%s', async (_name, handler, reason) => {
    local.server.handle(handler);
    await expect(measure()).rejects.toMatchObject({
      name: 'NoDataError',
      reason: typeof reason === 'string' ? expect.stringContaining(reason) : expect.stringMatching(reason),
    });
  });

  it('a timeout', async () => {
    local.server.handle(() => {
      // never answers
    });
    await expect(measure({ timeoutMs: 200 })).rejects.toMatchObject({
      name: 'NoDataError',
      reason: expect.stringMatching(/^timeout after 200 ms: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query$/),
    });
  });

  it('connection refused', async () => {
    const port = await closedPort();
    await expect(measure({ url: `http://127.0.0.1:${port}` })).rejects.toMatchObject({
      name: 'NoDataError',
      reason: `GET http://127.0.0.1:${port}/api/v1/query: connection refused`,
    });
  });

  it('never repeats credentials, the query string or a token the server echoes', async () => {
    local.server.handle((req, res) => void res.writeHead(401, { 'content-type': 'text/plain' }).end(`invalid token ${TOKEN} in ${req.headers.authorization ?? ''} for ${req.url}`));
    const reasons = await Promise.all(
      [measure({ headers: { Authorization: `Bearer ${TOKEN}` } }), measure({ url: local.server.url.replace('http://', `http://ops:${TOKEN}@`) })].map((read) =>
        read.then(String, (err: NoDataError) => err.reason),
      ),
    );
    for (const reason of reasons) {
      expect(reason).toMatch(/^HTTP 401 from http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query: invalid token \*\*\* in/);
      expect(reason).not.toContain(TOKEN);
      expect(reason).not.toContain(Buffer.from(`ops:${TOKEN}`).toString('base64'));
      expect(reason).not.toContain('ops:');
    }
  });
});
