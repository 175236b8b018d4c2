import { describe, expect, it } from 'vitest';
import type { HttpSourceConfig } from '../../src/sources/kinds/http-source.js';
import { createJsonSource } from '../../src/sources/json.js';
import type { MetricSource } from '../../src/sources/source.js';
import { closedPort, sendJson, useTestServer, type Handler } from '../helpers/http-server.js';

// The shape of a tRPC (superjson) answer, as the runbooks' metrics route returns it.
const trpc = {
  result: {
    data: {
      json: { errorRate: 0.012, avgResponseTime: '840', p95: 'NaN', healthy: true, note: null, windows: [{ minutes: 5, errors: 3 }] },
    },
  },
};

const local = useTestServer((_req, res) => sendJson(res, 200, trpc));

const route = '/api/trpc/aiMetrics.getSummary?lastMinutes=60';
function source(overrides: Partial<HttpSourceConfig> = {}): MetricSource {
  return createJsonSource({ type: 'json', name: 'app', url: `${local.server.url}${route}`, headers: {}, timeoutMs: 2000, ...overrides });
}
const signal = () => new AbortController().signal;



describe('json source: reading', () => {
  it.each<[string, unknown, number]>([
    ['result.data.json.errorRate', trpc, 0.012],
    ['result.data.json.avgResponseTime', trpc, 840],
    ['result.data.json.windows[0].errors', trpc, 3],
    ['items[1].value', { items: [{ value: 1 }, { value: 2 }] }, 2],
    ['[0].x', [{ x: 0.5 }], 0.5],
  ])('%s', async (path, doc, value) => {
    local.server.handle((_req, res) => sendJson(res, 200, doc));
    await expect(source().measure(path, signal())).resolves.toBe(value);
  });

  it('GETs the URL with its query string and the configured headers', async () => {
    await source({ headers: { Authorization: 'Bearer t0k3n-abc' } }).measure('result.data.json.errorRate', signal());
    expect(local.server.requests).toEqual([expect.objectContaining({ method: 'GET', url: route })]);
    expect(local.server.requests[0]!.headers.authorization).toBe('Bearer t0k3n-abc');
  });

  it('fetches the document once per poll, however many paths are read', async () => {
    const app = source();
    await expect(
      Promise.all(['result.data.json.errorRate', 'result.data.json.avgResponseTime', 'result.data.json.windows[0].minutes'].map((p) => app.measure(p, signal()))),
    ).resolves.toEqual([0.012, 840, 5]);
    expect(local.server.requests).toHaveLength(1);
    await app.finishPoll?.();
    await app.measure('result.data.json.errorRate', signal());
    expect(local.server.requests).toHaveLength(2);
  });

  it('shares a failed fetch within the poll, and retries in the next', async () => {
    local.server.handle((_req, res) => void res.writeHead(500, { 'content-type': 'text/plain' }).end('boom'));
    const app = source();
    const reads = await Promise.allSettled(['result.data.json.errorRate', 'result.data.json.p95'].map((p) => app.measure(p, signal())));
    const failed = { status: 'rejected', reason: expect.objectContaining({ name: 'NoDataError', reason: expect.stringMatching(/^HTTP 500 from .*: boom$/) }) };
    expect(reads).toEqual([failed, failed]);
    expect(local.server.requests).toHaveLength(1);
    await app.finishPoll?.();
    local.server.handle((_req, res) => sendJson(res, 200, trpc));
    await expect(app.measure('result.data.json.errorRate', signal())).resolves.toBe(0.012);
  });
});

describe('json source: no data', () => {
  it.each<[string, string]>([
    ['result.data.json.errorrate', 'path result.data.json.errorrate not found: result.data.json has keys errorRate, avgResponseTime, p95, healthy, note, windows'],
    ['result.json.errorRate', 'path result.json.errorRate not found: result has keys data'],
    ['result.data.json.windows[3].errors', 'path result.data.json.windows[3].errors not found: result.data.json.windows is an array of 1 item'],
    ['result.data.json.p95', 'path result.data.json.p95: value is NaN (a ratio over no traffic?)'],
    ['result.data.json.healthy', 'path result.data.json.healthy: value is a boolean (true), not a number'],
    ['result.data.json.note', 'path result.data.json.note: value is null, not a number'],
    ['result.data.json.windows[0]', 'path result.data.json.windows[0]: value is an object with keys minutes, errors, not a number'],
    ['result.data.json.windows', 'path result.data.json.windows: value is an array of 1 item, not a number'],
    ['result..data', 'invalid path result..data: expected a key at 8'],
  ])('%s', async (path, reason) => {
    await expect(source().measure(path, signal())).rejects.toMatchObject({ name: 'NoDataError', reason });
  });

  it.each<[string, Handler, RegExp]>([
    ['a non-numeric string', (_r, res) => sendJson(res, 200, { v: 'fast' }), /^path v: value is a string \("fast"\), not a number$/],
    ['"Infinity"', (_r, res) => sendJson(res, 200, { v: 'Infinity' }), /^path v: value is \+Inf/],
    ['HTTP 500', (_r, res) => void res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error'), /^HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/api\/trpc\/aiMetrics\.getSummary: Internal Server Error$/],
    ['a tRPC error', (_r, res) => sendJson(res, 401, { error: { json: { message: 'UNAUTHORIZED' } } }), /^HTTP 401 from .*: \{"error":\{"json":\{"message":"UNAUTHORIZED"\}\}\}$/],
    ['an HTML login page', (_r, res) => void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html><body>Sign in</body></html>'), /^HTML page instead of JSON from http:\/\/127\.0\.0\.1:\d+\/api\/trpc\/aiMetrics\.getSummary \(a login page or proxy error\?\)$/],
    ['a body that is not JSON', (_r, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"v": 1'), /^not JSON from http:\/\/127\.0\.0\.1:\d+\/api\/trpc\/aiMetrics\.getSummary: \{"v": 1$/],
  ])('%s', async (_name, handler, reason) => {
    local.server.handle(handler);
    await expect(source().measure('v', signal())).rejects.toMatchObject({ name: 'NoDataError', reason: expect.stringMatching(reason) });
  });

  it('a timeout', async () => {
    local.server.handle(() => {
      // never answers
    });
    await expect(source({ timeoutMs: 150 }).measure('v', signal())).rejects.toMatchObject({
      name: 'NoDataError',
      reason: expect.stringMatching(/^timeout after 150 ms: GET http:\/\/127\.0\.0\.1:\d+\/api\/trpc\/aiMetrics\.getSummary$/),
    });
  });

  it('connection refused, without the query string', async () => {
    const port = await closedPort();
    await expect(source({ url: `http://127.0.0.1:${port}/metrics.json?token=s3cr3t` }).measure('v', signal())).rejects.toMatchObject({
      name: 'NoDataError',
      reason: `GET http://127.0.0.1:${port}/metrics.json: connection refused`,
    });
  });
});
