/** A comparison metric's four counts, read from a real local JSON endpoint in one poll. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createSources, readPoll } from '../../src/sources/read-metrics.js';
import { sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';
import { comparisonPlan } from '../helpers/plan.js';

let server: TestServer;
let document: unknown;

beforeAll(async () => {
  server = await startTestServer((_req, res) => sendJson(res, 200, document));
});
afterAll(() => server.close());

async function read(doc: unknown) {
  document = doc;
  const plan = await comparisonPlan({ name: 'counted', url: `${server.url}/counts` });
  const poll = await readPoll(plan, await createSources(plan, { scrapeDir: '/nonexistent', clock: systemClock }));
  return poll.metrics[0];
}

describe('reading a comparison metric', () => {
  it('reads the four counts of one document (fetched once per poll)', async () => {
    const before = server.requests.length;
    expect(await read({ canary: { errors: 3, requests: 300 }, baseline: { errors: 20, requests: 2700 } })).toEqual({
      name: 'errors',
      counts: { canaryEvents: 3, canaryTotal: 300, baselineEvents: 20, baselineTotal: 2700 },
    });
    expect(server.requests.length - before).toBe(1);
  });

  it('a count that cannot be read makes the metric no data, naming which', async () => {
    const value = await read({ canary: { errors: 3, requests: 300 }, baseline: { requests: 2700 } });
    expect(value?.counts).toBeUndefined();
    expect(value?.noDataReason).toMatch(/^baseline events: /);
  });
});
