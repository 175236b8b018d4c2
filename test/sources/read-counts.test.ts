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
  const plan = comparisonPlan({ name: 'counted', url: `${server.url}/counts` });
  const poll = await readPoll(plan, createSources(plan, { scrapeDir: '/nonexistent', clock: systemClock }));
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

  it.each<[string, unknown, RegExp]>([
    ['a missing count', { canary: { errors: 3, requests: 300 }, baseline: { requests: 2700 } }, /^baseline events: /],
    ['a negative count (a counter reset read as a difference)', { canary: { errors: 3, requests: -300 }, baseline: { errors: 20, requests: 2700 } }, /^canary total: -300 is not a count$/],
    ['far more events than requests', { canary: { errors: 30, requests: 3 }, baseline: { errors: 20, requests: 2700 } }, /more events than requests .*check the queries/],
  ])('%s is no data, with the reason', async (_case, doc, reason) => {
    const value = await read(doc);
    expect(value?.counts).toBeUndefined();
    expect(value?.noDataReason).toMatch(reason);
  });

  it('a few events over the requests (extrapolated increases) count as every request failing', async () => {
    expect((await read({ canary: { errors: 10.4, requests: 10 }, baseline: { errors: 1, requests: 90 } }))?.counts).toMatchObject({ canaryEvents: 10, canaryTotal: 10 });
  });
});
