import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TargetError } from '../../src/errors.js';
import type { HttpTargetConfig } from '../../src/targets/kinds/http.js';
import { processSecrets } from '../../src/plan/secrets.js';
import { createHttpTarget, fillTemplate } from '../../src/targets/http.js';
import { BACKOFF_CAP_MS, backoffDelay } from '../../src/net/retry.js';
import { closedPort, sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';

let server: TestServer;
let sleeps: number[];

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  sleeps = [];
});

const fakeSleep = async (ms: number) => {
  sleeps.push(ms);
};

function config(overrides: Partial<HttpTargetConfig> = {}): HttpTargetConfig {
  return {
    type: 'http',
    set: { method: 'PUT', url: `${server.url}/flags/checkout`, headers: {}, body: { percentage: '{{percent}}' } },
    get: { url: `${server.url}/flags/checkout`, headers: {}, path: 'percentage' },
    emergency: [],
    timeoutMs: 2_000,
    retries: 3,
    ...overrides,
  };
}

const target = (c: HttpTargetConfig) => createHttpTarget(c, { sleep: fakeSleep, random: () => 0.5 });

/** A flag API that stores what PUT sends and answers GETs with `shape(percent)`. */
function flagApi(shape: (percent: unknown) => unknown = (percentage) => ({ percentage })) {
  let stored: unknown = 0;
  server.handle((req, res) => {
    if (req.method === 'GET') return sendJson(res, 200, shape(stored));
    stored = (JSON.parse(req.body) as { percentage: unknown }).percentage;
    sendJson(res, 200, { ok: true });
  });
}

describe('fillTemplate', () => {
  it.each([
    ['exact placeholder becomes a number', { p: '{{percent}}' }, { p: 25 }],
    ['placeholder inside text is replaced as text', { note: 'at {{percent}}% ({{percent}})' }, { note: 'at 25% (25)' }],
    ['arrays and nesting', { rules: [{ v: '{{percent}}' }, 'x'] }, { rules: [{ v: 25 }, 'x'] }],
    ['keys are left alone', { '{{percent}}': true }, { '{{percent}}': true }],
    ['other values pass through', { n: 1, b: false, z: null }, { n: 1, b: false, z: null }],
  ])('%s', (_name, template, expected) => {
    expect(fillTemplate(template, 25)).toEqual(expected);
  });
});

describe('backoffDelay', () => {
  it.each([
    [0, 0.999, 249],
    [1, 0.999, 499],
    [3, 0.5, 1000],
    [10, 0.999, BACKOFF_CAP_MS - 5],
    [0, 0, 0],
  ])('retry %i with random %d waits %i ms', (retry, random, expected) => {
    expect(backoffDelay(retry, () => random)).toBe(expected);
  });
});

describe('http target', () => {
  it('sends the configured request, then reads the value back', async () => {
    flagApi();
    await target(
      config({
        set: {
          method: 'PATCH',
          url: `${server.url}/flags/checkout?env=prod`,
          headers: { Authorization: 'Bearer flag-token', 'X-Team': 'checkout' },
          body: { percentage: '{{percent}}', note: 'rollout to {{percent}}%' },
        },
      }),
    ).apply(25);

    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['PATCH /flags/checkout?env=prod', 'GET /flags/checkout']);
    const [set] = server.requests;
    expect(set?.headers.authorization).toBe('Bearer flag-token');
    expect(set?.headers['x-team']).toBe('checkout');
    expect(set?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(set?.body ?? '')).toEqual({ percentage: 25, note: 'rollout to 25%' });
  });

  it.each([
    ['data.rollout', (p: unknown) => ({ data: { rollout: p } })],
    ['[0].value', (p: unknown) => [{ value: String(p) }]],
    ['percentage', (p: unknown) => ({ percentage: `${String(p)}%` })],
  ])('reads the percentage at %s', async (path, shape) => {
    flagApi(shape);
    const t = target(config({ get: { url: `${server.url}/flags/checkout`, headers: {}, path } }));
    await t.apply(30);
    expect(await t.read()).toBe(30);
  });

  it('retries a 502 with backoff, then succeeds', async () => {
    let calls = 0;
    server.handle((req, res) => {
      if (req.method === 'PUT' && ++calls <= 2) return sendJson(res, 502, { error: 'bad gateway' });
      sendJson(res, 200, { percentage: 10 });
    });
    await target(config()).apply(10);
    expect(server.requests.map((r) => r.method)).toEqual(['PUT', 'PUT', 'PUT', 'GET']);
    // Full jitter with random() = 0.5: half of 250·2^n.
    expect(sleeps).toEqual([125, 250]);
  });

  it('gives up after the configured retries and names the status', async () => {
    server.handle((_req, res) => sendJson(res, 503, { error: 'maintenance' }));
    const err = await target(config({ retries: 2 })).apply(10).catch((e: unknown) => e);
    expect(server.requests).toHaveLength(3);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as Error).message).toBe(`PUT ${server.url}/flags/checkout answered 503: {"error":"maintenance"}`);
  });

  it('does not retry a 400', async () => {
    server.handle((_req, res) => sendJson(res, 400, { error: 'percentage must be an integer' }));
    await expect(target(config()).apply(10)).rejects.toThrow(
      `PUT ${server.url}/flags/checkout answered 400: {"error":"percentage must be an integer"}`,
    );
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('retries refused connections', async () => {
    const port = await closedPort();
    const c = config({ retries: 2 });
    c.set.url = `http://127.0.0.1:${port}/flags/checkout`;
    await expect(target(c).apply(10)).rejects.toThrow(/connection refused \(after 3 attempts\)/);
    expect(sleeps).toHaveLength(2);
  });

  it('honours the timeout', async () => {
    server.handle(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 3_000));
      sendJson(res, 200, {});
    });
    const started = Date.now();
    await expect(target(config({ timeoutMs: 200, retries: 0 })).apply(10)).rejects.toThrow(/no complete answer within 200 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('fails when the value read back differs', async () => {
    server.handle((req, res) => sendJson(res, 200, req.method === 'GET' ? { percentage: 40 } : {}));
    await expect(target(config()).apply(25)).rejects.toThrow(
      `read back 40% from GET ${server.url}/flags/checkout, expected 25%`,
    );
  });

  it('fails when the path is missing or not a percentage', async () => {
    server.handle((_req, res) => sendJson(res, 200, { enabled: true, rollout: 'half' }));
    await expect(target(config()).read()).rejects.toThrow(/percentage not found.*has keys enabled, rollout/);
    const t = target(config({ get: { url: `${server.url}/flags/checkout`, headers: {}, path: 'rollout' } }));
    await expect(t.read()).rejects.toThrow(/rollout is "half", not a percentage/);
  });

  it('cannot read without `get`', async () => {
    expect(await target(config({ get: undefined })).read()).toBeUndefined();
    expect(server.requests).toHaveLength(0);
  });

  it('attempts every emergency call and reports the failures together', async () => {
    server.handle((req, res) => sendJson(res, req.url === '/broken' ? 500 : 200, {}));
    const t = target(
      config({
        retries: 0,
        emergency: [
          { method: 'POST', url: `${server.url}/broken`, headers: {} },
          { method: 'POST', url: `${server.url}/flags/checkout/disable`, headers: {}, body: { percent: '{{percent}}' } },
        ],
      }),
    );
    const err = await t.emergency().catch((e: unknown) => e);
    expect(server.requests.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual([
      'POST /broken ',
      'POST /flags/checkout/disable {"percent":0}',
    ]);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as Error).message).toMatch(/1 of 2 emergency actions failed:\n\s+- POST .*\/broken: .*answered 500/);
  });

  it('keeps secrets out of errors: query-string tokens and echoed bodies', async () => {
    processSecrets.add('qs-token-a1b2c3');
    processSecrets.add('hdr-token-d4e5f6');
    server.handle((req, res) =>
      sendJson(res, 401, { error: `token ${String(req.headers.authorization)} is not valid for ${req.url}` }),
    );
    const c = config();
    c.set.url = `${server.url}/flags/checkout?api_key=qs-token-a1b2c3`;
    c.set.headers = { Authorization: 'hdr-token-d4e5f6' };
    const err = await target(c).apply(10).catch((e: unknown) => e);
    const message = (err as Error).message;
    expect(message).toContain(`PUT ${server.url}/flags/checkout answered 401`);
    expect(message).toContain('token *** is not valid');
    expect(message).not.toMatch(/qs-token-a1b2c3|hdr-token-d4e5f6/);
    expect((err as TargetError).hint).toMatch(/credentials/);
  });
});
