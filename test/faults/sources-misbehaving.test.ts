/**
 * Fault injection 8: metric sources that answer badly — HTML pages, 500s, truncated bodies, a
 * connection dropped mid-body, NaN, empty results, a hang, 100 MB, a slow drip — served by a real
 * local server to each HTTP source type (prometheus, json, exposition). Every one must read as
 * nodata with its reason, never as a value, so no poll is healthy; through the built CLI
 * `rollout check` holds (3), or judges critical (4) under `noData: rollback`, and never crashes.
 * The 100 MB answer must be cut off at the source's cap, not read into memory.
 */
import { writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgePoll } from '../../src/analysis/judge.js';
import { systemClock } from '../../src/clock.js';
import { ExpositionParser } from '../../src/sources/exposition/parse.js';
import { createSources, readPoll } from '../../src/sources/read-metrics.js';
import { runCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';
import { planFromYaml } from '../helpers/plan.js';
import { tempDir } from './support.js';

const TYPES = ['prometheus', 'json', 'exposition'] as const;
type SourceType = (typeof TYPES)[number];

/** A well-formed answer of each source type carrying `value` (0.001 unless told otherwise). */
function answer(type: SourceType, value: unknown = 0.001): string {
  if (type === 'exposition') return `# TYPE errors_ratio gauge\nerrors_ratio ${String(value)}\n`;
  return type === 'prometheus'
    ? JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1_700_000_000, String(value)] }] } })
    : JSON.stringify({ result: { data: { json: { errorRate: value } } } });
}

/** An answer that is well-formed and holds nothing: no series, no such field. */
const EMPTY: Record<SourceType, string> = {
  prometheus: JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }),
  json: '{}',
  exposition: '# TYPE other_total counter\nother_total 3\n',
};

const contentType = (type: SourceType) => (type === 'exposition' ? 'text/plain; version=0.0.4' : 'application/json');

const HUGE_BYTES = 100 * 1024 * 1024;
/** Bytes the server got out per 100 MB answer before the client hung up, by source type. */
const hugeWritten: { type: SourceType; written: number }[] = [];

/**
 * How much of the 100 MB a client of each type may read before it hangs up: the JSON sources hold
 * the body and stop at 10 MiB; the exposition source streams it and stops at 64 MiB. Socket
 * buffers let a little more than that leave the server.
 */
const READ_AT_MOST: Record<SourceType, number> = { prometheus: HUGE_BYTES / 4, json: HUGE_BYTES / 4, exposition: HUGE_BYTES * 0.75 };

/** Every 100 MB answer was cut off by the client well before its end. */
async function expectHugeCutOff(answers: number): Promise<void> {
  await waitFor(() => hugeWritten.length === answers);
  for (const { type, written } of hugeWritten) expect(written, type).toBeLessThan(READ_AT_MOST[type]);
}

/**
 * Streams 100 MB in 64 KiB chunks, honouring backpressure, until done or the client hangs up: one
 * endless JSON string, or one endless line of a /metrics page (a label value that never closes).
 */
async function streamHuge(res: ServerResponse, type: SourceType): Promise<void> {
  res.writeHead(200, { 'content-type': contentType(type) });
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let written = 0;
  let gone = false;
  res.on('close', () => (gone = true));
  res.write(type === 'exposition' ? 'errors_ratio{padding="' : '{"padding": "');
  while (!gone && written < HUGE_BYTES) {
    written += chunk.length;
    if (!res.write(chunk)) await drainedOrClosed(res);
  }
  hugeWritten.push({ type, written });
  res.end();
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

/** Sends the headers, then one byte every 100 ms of a well-formed answer. */
function drip(res: ServerResponse, type: SourceType): void {
  const body = answer(type);
  res.writeHead(200, { 'content-type': contentType(type) });
  let i = 0;
  const timer = setInterval(() => {
    if (i >= body.length || res.destroyed) {
      clearInterval(timer);
      res.end();
      return;
    }
    res.write(body[i++]);
  }, 100);
  res.on('close', () => clearInterval(timer));
}

/** One way of answering badly, and the nodata reason it must produce. */
interface Misbehaviour {
  name: string;
  serve(res: ServerResponse, type: SourceType): void | Promise<void>;
  reason: Record<SourceType, RegExp>;
  /**
   * The source's timeout. Cases that must time out use a short one; every other case gets
   * DETERMINISTIC_TIMEOUT, so that on a loaded machine the clock never wins the race against the
   * answer and turns its reason into "timeout" (a cut-off read as "timeout after 1000 ms" once).
   */
  timeout?: string;
}

const all = (reason: RegExp): Record<SourceType, RegExp> => ({ prometheus: reason, json: reason, exposition: reason });
/** The two sources that read JSON word most failures alike. */
const jsonSources = (reason: RegExp) => ({ prometheus: reason, json: reason });

const MISBEHAVIOURS: Misbehaviour[] = [
  {
    name: 'login-page',
    serve: (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><head><title>Sign in</title></head><body>SSO</body></html>'),
    reason: { ...jsonSources(/HTML page instead of JSON/), exposition: /an HTML page, not Prometheus text format/ },
  },
  {
    name: 'proxy-error-page',
    serve: (res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>'),
    reason: { ...jsonSources(/HTTP 502 from .*HTML page "502 Bad Gateway"/), exposition: /HTTP 502 from/ },
  },
  {
    name: 'server-error',
    serve: (res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('internal server error'),
    reason: { ...jsonSources(/HTTP 500 from .*internal server error/), exposition: /HTTP 500 from/ },
  },
  {
    name: 'truncated',
    serve: (res, type) => {
      const body = answer(type);
      res.writeHead(200, { 'content-type': contentType(type) }).end(body.slice(0, Math.floor(body.length / 2)));
    },
    // Half a /metrics page ends in half a TYPE line, which fails a Prometheus scrape too.
    reason: { ...jsonSources(/not JSON from/), exposition: /not a page Prometheus would accept: .* line 1: unknown metric type "ga"/ },
  },
  {
    name: 'cut-off',
    // Promises the whole answer, sends half, and drops the connection.
    serve: (res, type) => {
      const body = answer(type);
      res.writeHead(200, { 'content-type': contentType(type), 'content-length': body.length });
      res.write(body.slice(0, Math.floor(body.length / 2)), () => res.destroy());
    },
    reason: all(/^GET http:\/\/127\.0\.0\.1:\d+\/cut-off\/\S+: connection reset$/),
  },
  {
    name: 'nan',
    serve: (res, type) => res.writeHead(200, { 'content-type': contentType(type) }).end(answer(type, 'NaN')),
    reason: { ...jsonSources(/value is NaN/), exposition: /result is NaN/ },
  },
  {
    name: 'empty',
    serve: (res, type) => res.writeHead(200, { 'content-type': contentType(type) }).end(EMPTY[type]),
    reason: { prometheus: /empty result: the query matched no series/, json: /path result\.data\.json\.errorRate not found/, exposition: /empty result/ },
  },
  {
    name: 'hang',
    // Never answers; the server's close() destroys the socket.
    serve: () => new Promise<void>(() => undefined),
    reason: all(/timeout after 1000 ms/),
    timeout: '1s',
  },
  // Time enough to reach the cap on a busy machine: the reason must be the cap, not the clock.
  { name: 'huge', serve: (res, type) => streamHuge(res, type), reason: all(/over the \d+-byte cap/) },
  // A well-formed answer that takes over 10 s to arrive: only the timeout can end it.
  { name: 'slow-drip', serve: (res, type) => drip(res, type), reason: all(/timeout after 1000 ms/), timeout: '1s' },
];

/** Long enough that only an answer, never the clock, decides the reason of the other cases. */
const DETERMINISTIC_TIMEOUT = '20s';

let server: TestServer;
beforeAll(async () => {
  // Routes are /<misbehaviour>/<type>/..., so each source's base URL picks how it is answered.
  server = await startTestServer(async (req, res) => {
    const [, name, type] = req.url.split(/[/?]/);
    const misbehaviour = MISBEHAVIOURS.find((m) => m.name === name);
    const sourceType = TYPES.find((t) => t === type);
    if (!misbehaviour || !sourceType) return void res.writeHead(404).end();
    await misbehaviour.serve(res, sourceType);
  });
});
afterAll(async () => {
  await server.close();
});

/** How a metric reads each source type. */
const READS: Record<SourceType, string> = {
  prometheus: 'query: "sum(rate(errors[5m]))"',
  json: 'path: result.data.json.errorRate',
  exposition: 'expr: sum(errors_ratio)',
};

/** A plan reading one metric per (misbehaviour, source type), all through misbehaving servers. */
function planYaml(misbehaviours: Misbehaviour[], noData: 'hold' | 'rollback' = 'hold'): string {
  const pairs = misbehaviours.flatMap((m) => TYPES.map((type) => ({ m, type, source: `${m.name}-${type}` })));
  const sources = pairs.map(
    ({ m, type, source }) => `  ${source}: { type: ${type}, url: "${server.url}/${m.name}/${type}${type === 'prometheus' ? '' : '/doc'}", timeout: ${m.timeout ?? DETERMINISTIC_TIMEOUT} }`,
  );
  const metrics = pairs.map(({ type, source }) => `  - { name: ${source}, source: ${source}, ${READS[type]}, unit: ratio, warning: "> 1%", critical: "> 5%" }`);
  return `version: 1
name: misbehaving
stages: [10, 100]
analysis: { interval: 10s, bake: 0s, noData: ${noData} }
sources:
${sources.join('\n')}
metrics:
${metrics.join('\n')}
target: { type: command, set: [echo, "{{percent}}"] }
`;
}

/** The reason each metric of planYaml() must read as nodata with. */
function expectedReasons(misbehaviours: Misbehaviour[]): Record<string, RegExp> {
  return Object.fromEntries(misbehaviours.flatMap((m) => TYPES.map((type) => [`${m.name}-${type}`, m.reason[type]])));
}

describe('misbehaving sources, read in process', () => {
  // First, so that no earlier read has already grown the heap this one is measured against.
  it.each(TYPES)('a 100 MB answer to the %s source is cut off at its cap, not read into memory', async (type) => {
    const read = async (name: string) => {
      const plan = await planFromYaml(planYaml(MISBEHAVIOURS.filter((m) => m.name === name)));
      const only = { ...plan, metrics: plan.metrics.filter((m) => m.source === `${name}-${type}`) };
      return readPoll(only, await createSources(only, { scrapeDir: tempDir('sources'), clock: systemClock }));
    };
    // One small read first, so the client's one-time set-up is not counted against the big one.
    await read('nan');
    hugeWritten.length = 0;
    const rssBefore = process.memoryUsage().rss;
    const poll = await read('huge');
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    expect(poll.metrics.map((m) => m.noDataReason)).toEqual([expect.stringMatching(/over the \d+-byte cap/)]);
    await expectHugeCutOff(1);
    console.log(`100 MB answer to the ${type} source: the server got ${hugeWritten[0]?.written} bytes out; the RSS grew by ${rssGrowth} bytes`);
    expect(rssGrowth).toBeLessThan(HUGE_BYTES / 2);
  });

  it('a /metrics line that never ends is dropped as it streams, not held, and the page reads on', () => {
    const parser = new ExpositionParser(['errors_ratio']);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    parser.push('errors_ratio{padding="');
    // 2 MiB of one line: held whole, it would be re-copied with every chunk.
    for (let i = 0; i < 32; i++) parser.push(chunk);
    parser.push('"} 5\nerrors_ratio{ok="yes"} 0.25\n');
    const page = parser.end();
    expect(page.firstProblem).toEqual({ line: 1, message: expect.stringMatching(/^a line longer than \d+ bytes$/) });
    expect(page.problems).toBe(1);
    expect(page.series.get('errors_ratio')).toEqual({ labels: [{ ok: 'yes' }], values: [0.25] });
  });

  it('every bad answer is nodata with its reason, and no poll over them is healthy', async () => {
    for (const noData of ['hold', 'rollback'] as const) {
      const plan = await planFromYaml(planYaml(MISBEHAVIOURS, noData));
      const poll = await readPoll(plan, await createSources(plan, { scrapeDir: tempDir('sources'), clock: systemClock }));
      const reasons = Object.fromEntries(poll.metrics.map((m) => [m.name, m.noDataReason]));
      for (const [name, reason] of Object.entries(expectedReasons(MISBEHAVIOURS))) {
        expect(reasons[name], name).toMatch(reason);
      }
      expect(poll.metrics.every((m) => m.value === undefined)).toBe(true);
      const judgement = judgePoll(plan, poll.metrics);
      expect(judgement.readings.map((r) => r.status)).toEqual(plan.metrics.map(() => 'nodata'));
      expect(judgement.verdict).toBe(noData === 'hold' ? 'hold' : 'critical');
    }
  });

  it('each bad answer alone still keeps the poll from being healthy', async () => {
    for (const m of MISBEHAVIOURS.filter((x) => x.name !== 'huge')) {
      const plan = await planFromYaml(planYaml([m]));
      const poll = await readPoll(plan, await createSources(plan, { scrapeDir: tempDir('sources'), clock: systemClock }));
      expect(judgePoll(plan, poll.metrics).verdict, m.name).toBe('hold');
    }
  });
});

describe('misbehaving sources, through the built CLI', () => {
  it('`rollout check` holds (exit 3) on each bad answer and names the reason', async () => {
    const results = await Promise.all(MISBEHAVIOURS.map((m) => check([m], 'hold')));
    for (const [i, m] of MISBEHAVIOURS.entries()) expectNoData(results[i], [m], 3);
  });

  it('`rollout check` is critical (exit 4) under noData: rollback, with every reason', async () => {
    hugeWritten.length = 0;
    expectNoData(await check(MISBEHAVIOURS, 'rollback'), MISBEHAVIOURS, 4);
    await expectHugeCutOff(TYPES.length);
  });
});

async function check(misbehaviours: Misbehaviour[], noData: 'hold' | 'rollback') {
  const dir = tempDir('sources-cli');
  writeFileSync(join(dir, 'rollout.yaml'), planYaml(misbehaviours, noData));
  return runCli(['check', '--json'], { cwd: dir });
}

/** The CLI did not crash, exited `code`, and reported each metric as nodata with its reason. */
function expectNoData(result: Awaited<ReturnType<typeof check>> | undefined, misbehaviours: Misbehaviour[], code: number): void {
  expect(result?.stderr).toBe('');
  expect(result?.code).toBe(code);
  const report = JSON.parse(result?.stdout ?? '') as { verdict: string; readings: { name: string; status: string; reason: string }[] };
  expect(report.verdict).toBe(code === 3 ? 'hold' : 'critical');
  const reasons = expectedReasons(misbehaviours);
  expect(report.readings.map((r) => r.name).sort()).toEqual(Object.keys(reasons).sort());
  for (const r of report.readings) {
    expect(r.status, r.name).toBe('nodata');
    expect(r.reason, r.name).toMatch(reasons[r.name] ?? /^$/);
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the server');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
