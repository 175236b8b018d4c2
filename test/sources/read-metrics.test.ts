import { join } from 'node:path';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { Secrets } from '../../src/plan/secrets.js';
import type { MetricConfig, Plan, SourceConfig } from '../../src/plan/types.js';
import type { CommandTargetConfig } from '../../src/targets/kinds/command.js';
import type { HttpSourceConfig } from '../../src/sources/kinds/http-source.js';
import { createSources, readPoll } from '../../src/sources/read-metrics.js';
import { NoDataError, type MetricSource } from '../../src/sources/source.js';
import { sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';

function metric(name: string, source: string, fields: Partial<MetricConfig> = {}): MetricConfig {
  return { name, source, query: `q_${name}`, unit: 'ratio', noData: 'hold', dryRun: false, ...fields };
}

const TRUE_COMMAND: CommandTargetConfig = { type: 'command', set: ['true'], emergency: [], timeoutMs: 1000 };

function plan(metrics: MetricConfig[], sources: Record<string, SourceConfig>, requests?: Plan['analysis']['requests']): Plan {
  return {
    file: '/plans/rollout.yaml',
    dir: '/plans',
    version: 1,
    name: 'checkout-v2',
    stages: [{ percent: 100, bakeMs: 0, approval: false }],
    analysis: { intervalMs: 1000, bakeMs: 0, failureLimit: 1, noData: 'hold', maxHoldMs: 0, onMaxHold: 'fail', warmupMs: 0, ...(requests && { requests }) },
    rollback: { to: 0 },
    sources,
    metrics,
    target: TRUE_COMMAND,
    notify: [],
    state: { backend: 'file' },
    secrets: new Secrets(),
  };
}

const prom = (name: string, timeoutMs: number, url = 'http://127.0.0.1:9'): HttpSourceConfig => ({ type: 'prometheus', name, url, headers: {}, timeoutMs });

/** A source answering each query from a table, after `delayMs`; `hang` never answers. */
function fakeSource(answers: Record<string, number | Error | 'hang'>, delayMs = 10): MetricSource & { signals: AbortSignal[]; polls: number } {
  const fake = {
    signals: [] as AbortSignal[],
    polls: 0,
    async measure(query: string, signal: AbortSignal): Promise<number> {
      fake.signals.push(signal);
      const answer = answers[query];
      // Ignores its signal on purpose: the poll must not depend on sources honouring it.
      if (answer === 'hang') return new Promise<number>(() => {});
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (answer instanceof Error) throw answer;
      if (answer === undefined) throw new NoDataError(`no answer for ${query}`);
      return answer;
    },
    async finishPoll() {
      fake.polls++;
    },
  };
  return fake;
}

describe('readPoll: parallel reads with a deadline each', () => {
  it('a hanging source costs only its own timeout; the others are read', async () => {
    const sources = { fast: fakeSource({ q_a: 0.01 }), slow: fakeSource({ q_b: 'hang' }), other: fakeSource({ q_c: 3 }, 50) };
    const p = plan([metric('a', 'fast'), metric('b', 'slow'), metric('c', 'other')], {
      fast: prom('fast', 300),
      slow: prom('slow', 300),
      other: prom('other', 300),
    });
    const started = performance.now();
    const readings = await readPoll(p, sources);
    const elapsed = performance.now() - started;
    expect(readings.metrics).toEqual([
      { name: 'a', value: 0.01 },
      { name: 'b', noDataReason: 'timeout after 300 ms' },
      { name: 'c', value: 3 },
    ]);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    // The hang never ends: any bound shows the poll did not wait for it (10× the ~310 ms measured).
    expect(elapsed).toBeLessThan(3000);
    expect(sources.slow.signals[0]?.aborted).toBe(true);
    expect(sources.fast.signals[0]?.aborted).toBe(false);
  });

  it('reads in parallel: every source is asked before any has answered', async () => {
    // Each source answers only once all three have been asked: read one after another, the first
    // would wait for the others until its timeout, and every metric would read "timeout".
    const asked: (() => void)[] = [];
    const together: MetricSource = {
      measure: () =>
        new Promise<number>((resolve) => {
          asked.push(() => resolve(asked.length));
          if (asked.length === 3) for (const answer of asked) answer();
        }),
    };
    const p = plan([metric('a', 's1'), metric('b', 's2'), metric('c', 's3')], { s1: prom('s1', 5000), s2: prom('s2', 5000), s3: prom('s3', 5000) });
    const readings = await readPoll(p, { s1: together, s2: together, s3: together });
    expect(readings.metrics).toEqual([
      { name: 'a', value: 3 },
      { name: 'b', value: 3 },
      { name: 'c', value: 3 },
    ]);
  });

  it('a slow real HTTP source does not hold up a fast one', async () => {
    const slow = await startTestServer(() => {
      // never answers
    });
    const fast = await startTestServer((_req, res) => sendJson(res, 200, { status: 'success', data: { resultType: 'scalar', result: [1, '0.5'] } }));
    try {
      const p = plan([metric('slow', 'slow'), metric('fast', 'fast')], { slow: prom('slow', 300, slow.url), fast: prom('fast', 300, fast.url) });
      const started = performance.now();
      const readings = await readPoll(p, await createSources(p, { scrapeDir: '/tmp', clock: systemClock }));
      // 10× the ~320 ms measured; the slow server never answers, so the poll ended on its timeout.
      expect(performance.now() - started).toBeLessThan(3000);
      expect(readings.metrics[0]?.noDataReason).toMatch(/^timeout after 300 ms/);
      expect(readings.metrics[1]).toEqual({ name: 'fast', value: 0.5 });
    } finally {
      await Promise.all([slow.close(), fast.close()]);
    }
  });

  it('uses the timeoutMs option over the plan', async () => {
    const sources = { s: fakeSource({ q_a: 'hang' }) };
    const readings = await readPoll(plan([metric('a', 's')], { s: prom('s', 60_000) }), sources, { timeoutMs: () => 50 });
    expect(readings.metrics[0]?.noDataReason).toBe('timeout after 50 ms');
  });
});

describe('readPoll: readings', () => {
  it.each<[string, MetricConfig, Record<string, number | Error | 'hang'>, object]>([
    ['a value and its baseline', metric('p95', 's', { baseline: 'q_base' }), { q_p95: 1.2, q_base: 1 }, { name: 'p95', value: 1.2, baseline: 1 }],
    ['a baseline of 0 (judged later)', metric('p95', 's', { baseline: 'q_base' }), { q_p95: 1.2, q_base: 0 }, { name: 'p95', value: 1.2, baseline: 0 }],
    ['a baseline that reads nodata', metric('p95', 's', { baseline: 'q_base' }), { q_p95: 1.2 }, { name: 'p95', value: 1.2, noDataReason: 'baseline: no answer for q_base' }],
    ['a metric that reads nodata, baseline or not', metric('p95', 's', { baseline: 'q_base' }), { q_base: 1 }, { name: 'p95', noDataReason: 'no answer for q_p95' }],
    ['an unexpected error', metric('e', 's'), { q_e: new TypeError('boom') }, { name: 'e', noDataReason: 'unexpected: boom' }],
    ['a metric of an unknown source', metric('u', 'nope'), {}, { name: 'u', noDataReason: 'unexpected: no source named nope' }],
  ])('%s', async (_name, m, answers, expected) => {
    const readings = await readPoll(plan([m], { s: prom('s', 1000) }), { s: fakeSource(answers) });
    expect(readings.metrics).toEqual([expected]);
  });

  it('reads analysis.requests as "requests", only when the plan has it', async () => {
    const sources = { s: fakeSource({ q_a: 1, 'sum(increase(http_requests_total[5m]))': 250 }) };
    const withRequests = plan([metric('a', 's')], { s: prom('s', 1000) }, { source: 's', query: 'sum(increase(http_requests_total[5m]))' });
    expect(await readPoll(withRequests, sources)).toEqual({ metrics: [{ name: 'a', value: 1 }], requests: { name: 'requests', value: 250 } });
    expect(await readPoll(plan([metric('a', 's')], { s: prom('s', 1000) }), sources)).toEqual({ metrics: [{ name: 'a', value: 1 }] });
  });

  it('calls finishPoll of every source once per poll', async () => {
    const sources = { s: fakeSource({ q_a: 1, q_b: 2 }), idle: fakeSource({}) };
    const p = plan([metric('a', 's'), metric('b', 's')], { s: prom('s', 1000), idle: prom('idle', 1000) });
    await readPoll(p, sources);
    await readPoll(p, sources);
    expect([sources.s.polls, sources.idle.polls]).toEqual([2, 2]);
  });

  it('fails the poll when a source cannot finish it', async () => {
    const broken: MetricSource = { measure: () => Promise.resolve(1), finishPoll: () => Promise.reject(new Error('disk full')) };
    await expect(readPoll(plan([metric('a', 's')], { s: prom('s', 1000) }), { s: broken })).rejects.toThrow('disk full');
  });

  it('rejects an interrupted poll instead of returning its readings', async () => {
    const controller = new AbortController();
    const sources = { s: fakeSource({ q_a: 'hang' }) };
    setTimeout(() => controller.abort(new Error('interrupted')), 30);
    const started = performance.now();
    await expect(readPoll(plan([metric('a', 's')], { s: prom('s', 60_000) }), sources, { signal: controller.signal })).rejects.toThrow('interrupted');
    // Far below the source's 60 s timeout, far above the ~35 ms measured.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(sources.s.signals[0]?.aborted).toBe(true);
  });
});

describe('readPoll with a json source: one fetch per poll', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer((_req, res) => sendJson(res, 200, { result: { data: { json: { errorRate: 0.02, latency: 900, stableLatency: 800 } } } }));
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  it('reads several paths and a baseline from one fetch, and fetches again next poll', async () => {
    const app: HttpSourceConfig = { type: 'json', name: 'app', url: `${server.url}/api/trpc/aiMetrics.getSummary`, headers: {}, timeoutMs: 1000 };
    const p = plan(
      [
        metric('errors', 'app', { query: 'result.data.json.errorRate' }),
        metric('latency', 'app', { query: 'result.data.json.latency', baseline: 'result.data.json.stableLatency' }),
        metric('typo', 'app', { query: 'result.data.json.p95' }),
      ],
      { app },
    );
    const sources = await createSources(p, { scrapeDir: '/tmp', clock: systemClock });
    expect((await readPoll(p, sources)).metrics).toEqual([
      { name: 'errors', value: 0.02 },
      { name: 'latency', value: 900, baseline: 800 },
      { name: 'typo', noDataReason: 'path result.data.json.p95 not found: result.data.json has keys errorRate, latency, stableLatency' },
    ]);
    expect(server.requests).toHaveLength(1);
    await readPoll(p, sources);
    expect(server.requests).toHaveLength(2);
  });
});

describe('createSources', () => {
  it('wires an exposition source to its page, the expressions it needs and its scrape file', async () => {
    let total = 100;
    const page = await startTestServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(`# TYPE r_total counter\nr_total{code="200"} ${total}\nunrelated_total 7\n`);
    });
    try {
      const scrapeDir = mkdtempSync(join(tmpdir(), 'rollout-scrape-'));
      const scrape: HttpSourceConfig = { type: 'exposition', name: 'scrape', url: `${page.url}/metrics`, headers: {}, timeoutMs: 1000 };
      const p = plan([metric('requests_seen', 'scrape', { query: 'sum(increase(r_total))', unit: 'count' })], { scrape });
      const first = await readPoll(p, await createSources(p, { scrapeDir, clock: systemClock }));
      expect(first.metrics[0]?.noDataReason).toMatch(/warming up/);
      expect(existsSync(join(scrapeDir, 'checkout-v2.scrape.scrape.json'))).toBe(true);
      total = 160;
      // A fresh set of sources, as the next `rollout check` would build: the scrape file carries over.
      const second = await readPoll(p, await createSources(p, { scrapeDir, clock: systemClock }));
      expect(second.metrics[0]).toEqual({ name: 'requests_seen', value: 60 });
    } finally {
      await page.close();
    }
  });

  it('refuses an unknown source type', async () => {
    const p = plan([], { odd: { type: 'graphite', name: 'odd', timeoutMs: 1 } });
    await expect(createSources(p, { scrapeDir: '/tmp', clock: systemClock })).rejects.toThrow('source odd: unknown type "graphite"');
  });
});
