/**
 * Redirects (issue 16 item 7), against two real servers on different ports, i.e. different origins:
 * a source's GET follows redirects within its origin, carrying its credentials, up to a bound; a
 * redirect to another origin is not followed, so no credential reaches it; no message names a Location.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_REDIRECTS } from '../../src/net/http.js';
import { createJsonSource } from '../../src/sources/json.js';
import type { MetricSource } from '../../src/sources/source.js';
import { createHttpTarget } from '../../src/targets/http.js';
import { sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';

let origin: TestServer;
let other: TestServer;

beforeAll(async () => {
  origin = await startTestServer();
  other = await startTestServer((_req, res) => sendJson(res, 200, { value: 99 }));
});
afterAll(async () => {
  await origin.close();
  await other.close();
});
beforeEach(() => {
  origin.requests.length = 0;
  other.requests.length = 0;
});

const CREDENTIALS = { Authorization: 'Bearer src-t0ken-123', 'X-Api-Key': 'k3y-456' };

function source(url: string, headers: Record<string, string> = CREDENTIALS): MetricSource {
  return createJsonSource({ type: 'json', name: 'app', url, headers, timeoutMs: 2000 });
}
const measure = (s: MetricSource) => s.measure('value', new AbortController().signal);

describe('a source GET', () => {
  it('follows a same-origin redirect (absolute or relative), sending the same credentials to each hop', async () => {
    origin.handle((req, res) => {
      if (req.url === '/start') return void res.writeHead(302, { location: `${origin.url}/moved/once` }).end('moved');
      if (req.url === '/moved/once') return void res.writeHead(301, { location: '../final?x=1' }).end();
      if (req.url === '/final?x=1') return sendJson(res, 200, { value: 7 });
      return void res.writeHead(404).end();
    });
    await expect(measure(source(`${origin.url}/start`))).resolves.toBe(7);
    expect(origin.requests.map((r) => r.url)).toEqual(['/start', '/moved/once', '/final?x=1']);
    for (const r of origin.requests) {
      expect(r.method).toBe('GET');
      expect(r.headers.authorization).toBe('Bearer src-t0ken-123');
      expect(r.headers['x-api-key']).toBe('k3y-456');
    }
  });

  it('follows a same-origin redirect with basic auth from the URL', async () => {
    origin.handle((req, res) => {
      if (req.url === '/start') return void res.writeHead(307, { location: '/final' }).end();
      return sendJson(res, 200, { value: 3 });
    });
    await expect(measure(source(`http://admin:pa55word@127.0.0.1:${origin.port}/start`, {}))).resolves.toBe(3);
    const basic = `Basic ${Buffer.from('admin:pa55word').toString('base64')}`;
    expect(origin.requests.map((r) => [r.url, r.headers.authorization])).toEqual([['/start', basic], ['/final', basic]]);
  });

  it.each([
    ['another port', () => `${other.url}/login?token=l0cation-t0ken`],
    ['another scheme on the same host and port', () => `https://127.0.0.1:${origin.port}/l0cation-t0ken`],
  ])('does not follow a redirect to %s, and names no Location', async (_what, location) => {
    origin.handle((_req, res) => void res.writeHead(302, { location: location() }).end());
    const err = (await measure(source(`http://admin:pa55word@127.0.0.1:${origin.port}/start`, CREDENTIALS)).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(
      `GET http://127.0.0.1:${origin.port}/start: answered 302, a redirect to another origin (a login page?), not followed so that the request's credentials go nowhere else`,
    );
    expect(other.requests).toEqual([]);
    expect(origin.requests).toHaveLength(1);
  });

  it(`gives up after ${MAX_REDIRECTS} redirects`, async () => {
    let hop = 0;
    origin.handle((_req, res) => void res.writeHead(302, { location: `/loop/${++hop}` }).end());
    await expect(measure(source(`${origin.url}/start`))).rejects.toThrow(`GET ${origin.url}/start: more than ${MAX_REDIRECTS} redirects`);
    expect(origin.requests).toHaveLength(MAX_REDIRECTS + 1);
  });

  it('keeps one deadline over all its redirects, named with the URL first asked', async () => {
    // Each hop alone answers within the deadline; the two together do not.
    const slowly = (answer: () => void) => void setTimeout(answer, 250);
    origin.handle((req, res) => {
      if (req.url === '/start') return slowly(() => res.writeHead(302, { location: '/slow' }).end());
      slowly(() => sendJson(res, 200, { value: 1 }));
    });
    const slow = createJsonSource({ type: 'json', name: 'app', url: `${origin.url}/start`, headers: {}, timeoutMs: 400 });
    await expect(measure(slow)).rejects.toThrow(`timeout after 400 ms: GET ${origin.url}/start`);
  });
});

describe('a target request other than GET', () => {
  it('does not follow a redirect: the answer is an error naming the request, not the Location', async () => {
    origin.handle((_req, res) => void res.writeHead(307, { location: `${other.url}/flags/l0cation-t0ken` }).end());
    const target = createHttpTarget({
      type: 'http',
      set: { method: 'PUT', url: `${origin.url}/flag`, headers: { Authorization: 'Bearer flag-t0ken-789' }, body: { percentage: '{{percent}}' } },
      emergency: [],
      timeoutMs: 2000,
      retries: 0,
    });
    const err = (await target.apply(10).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`PUT ${origin.url}/flag answered 307`);
    expect(other.requests).toEqual([]);
    expect(origin.requests.map((r) => r.method)).toEqual(['PUT']);
  });
});
