/**
 * The prometheus source against a REAL Prometheus scraping a service the test controls: the
 * runbooks' error-rate and p95 queries must return the numbers the service's behaviour implies,
 * and a stopped Prometheus must read as "connection refused".
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusSource } from '../../src/sources/prometheus.js';
import { NoDataError, type MetricSource } from '../../src/sources/source.js';
import { runCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';
import { startPrometheus, type PrometheusServer } from '../helpers/prometheus.js';

// Short enough to keep the test quick, long enough for several 1 s scrapes per window.
const WINDOW = '5s';
const SETTLE_MS = 15_000;
const errorRate = (variant: string) =>
  `sum(rate(http_requests_total{variant="${variant}",status=~"5.."}[${WINDOW}])) / sum(rate(http_requests_total{variant="${variant}"}[${WINDOW}]))`;
const p95 = (variant: string) =>
  `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{variant="${variant}"}[${WINDOW}])))`;

const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** How a variant behaves: the share of 5xx answers and the latency of every request. */
interface Behaviour {
  errorRatio: number;
  latencySeconds: number;
}

/**
 * A service whose counters advance on a 100 ms tick as if it served 200 requests per tick per
 * variant, all with one latency: the expected rates and quantiles are then exact.
 */
class FakeService {
  readonly behaviour: Record<string, Behaviour> = {
    canary: { errorRatio: 0.005, latencySeconds: 0.075 },
    stable: { errorRatio: 0.005, latencySeconds: 0.075 },
  };
  private readonly requests = new Map<string, number>();
  private readonly buckets = new Map<string, number>();
  private readonly timer = setInterval(() => this.tick(), 100);

  tick(): void {
    for (const [variant, { errorRatio, latencySeconds }] of Object.entries(this.behaviour)) {
      const errors = Math.round(200 * errorRatio);
      this.add(this.requests, `variant="${variant}",status="500"`, errors);
      this.add(this.requests, `variant="${variant}",status="200"`, 200 - errors);
      for (const le of [...BUCKETS, Infinity]) {
        this.add(this.buckets, `variant="${variant}",le="${le === Infinity ? '+Inf' : le}"`, latencySeconds <= le ? 200 : 0);
      }
    }
  }

  page(): string {
    const lines = ['# TYPE http_requests_total counter'];
    for (const [labels, n] of this.requests) lines.push(`http_requests_total{${labels}} ${n}`);
    lines.push('# TYPE http_request_duration_seconds histogram');
    for (const [labels, n] of this.buckets) lines.push(`http_request_duration_seconds_bucket{${labels}} ${n}`);
    return `${lines.join('\n')}\n`;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private add(counters: Map<string, number>, labels: string, n: number): void {
    counters.set(labels, (counters.get(labels) ?? 0) + n);
  }
}

/**
 * Reads `query` until it is within 1 % of `expected`, failing after SETTLE_MS: after a change of
 * behaviour the rate window holds a mix of old and new for WINDOW plus a scrape.
 */
async function expectSettles(source: MetricSource, query: string, expected: number): Promise<void> {
  const deadline = Date.now() + SETTLE_MS;
  let last: unknown;
  for (;;) {
    try {
      last = await source.measure(query, AbortSignal.timeout(5000));
      if (Math.abs((last as number) - expected) <= expected * 0.01) return;
    } catch (err) {
      last = err instanceof NoDataError ? `nodata: ${err.reason}` : err;
    }
    if (Date.now() > deadline) throw new Error(`${query} did not settle at ${expected} within ${SETTLE_MS} ms; last read ${String(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}


describe('prometheus source against a real Prometheus', () => {
  let service: FakeService;
  let app: TestServer;
  let prometheus: PrometheusServer;
  let source: MetricSource;
  let planDir: string;

  /** `rollout check` of the runbook's gates (error rate 1 %/5 %, p95 5 s/10 s) against this Prometheus. */
  const check = async () => {
    const r = await runCli(['check', '--json'], { cwd: planDir });
    return { code: r.code, result: JSON.parse(r.stdout) as { verdict: string; readings: { name: string; status: string; reason: string }[] } };
  };

  beforeAll(async () => {
    service = new FakeService();
    app = await startTestServer((req, res) => {
      res.writeHead(req.url === '/metrics' ? 200 : 404, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(req.url === '/metrics' ? service.page() : '');
    });
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${app.port}`] });
    source = createPrometheusSource({ type: 'prometheus', name: 'prom', url: prometheus.url, headers: {}, timeoutMs: 3000 });
    planDir = mkdtempSync(join(tmpdir(), 'rollout-prom-check-'));
    writeFileSync(
      join(planDir, 'rollout.yaml'),
      `version: 1
name: prom-check
stages: [10, 100]
sources: { prom: { type: prometheus, url: "${prometheus.url}", timeout: 3s } }
metrics:
  - { name: error_rate, source: prom, query: '${errorRate('canary')}', unit: ratio, warning: "> 1%", critical: "> 5%" }
  - { name: p95_latency, source: prom, query: '${p95('canary')}', unit: seconds, warning: "> 5s", critical: "> 10s" }
target: { type: command, set: [echo, "{{percent}}"] }
`,
    );
  });

  afterAll(async () => {
    await prometheus?.stop();
    service?.stop();
    await app?.close();
  });

  // p95 of requests that all fall in one bucket (lo, hi]: lo + 0.95 × (hi − lo), by linear interpolation.
  it('reads a healthy canary: 0.5 % errors, p95 in the (0.05, 0.1] bucket', async () => {
    await expectSettles(source, errorRate('canary'), 0.005);
    await expectSettles(source, p95('canary'), 0.0975);
    const { code, result } = await check();
    expect(result.verdict).toBe('healthy');
    expect(code).toBe(0);
  });

  it('follows the canary as it degrades: 2 % errors, p95 in (5, 10]', async () => {
    service.behaviour.canary = { errorRatio: 0.02, latencySeconds: 7 };
    await expectSettles(source, errorRate('canary'), 0.02);
    await expectSettles(source, p95('canary'), 9.75);
    const { code, result } = await check();
    expect(result.readings.map((r) => r.status)).toEqual(['warning', 'warning']);
    expect(code).toBe(3);
  });

  it('follows the canary as it breaks: 10 % errors, p95 in (10, 30], while stable stays healthy', async () => {
    service.behaviour.canary = { errorRatio: 0.1, latencySeconds: 12 };
    await expectSettles(source, errorRate('canary'), 0.1);
    await expectSettles(source, p95('canary'), 29);
    expect(await source.measure(errorRate('stable'), AbortSignal.timeout(5000))).toBeCloseTo(0.005, 3);
    expect(await source.measure(p95('stable'), AbortSignal.timeout(5000))).toBeCloseTo(0.0975, 3);
    const { code, result } = await check();
    expect(result.readings.map((r) => r.status)).toEqual(['critical', 'critical']);
    expect(code).toBe(4);
  });

  it('reads a scalar', async () => {
    await expect(source.measure('scalar(sum(up))', AbortSignal.timeout(5000))).resolves.toBe(1);
  });

  it.each<[string, string, string | RegExp]>([
    ['no matching series', `sum(rate(http_requests_total{variant="none"}[${WINDOW}]))`, 'empty result: the query matched no series'],
    ['several series', 'http_requests_total', 'query returned 4 series; aggregate it, e.g. sum(...)'],
    ['a ratio over no traffic', 'vector(0) / vector(0)', 'value is NaN (a ratio over no traffic?)'],
    ['a division by zero', 'vector(1) / vector(0)', 'value is +Inf (a division by zero?)'],
    ['a range vector', `http_requests_total{status="500",variant="canary"}[${WINDOW}]`, 'query returned a range vector (matrix)'],
    ['a bad query', 'sum(rate(http_requests_total[5s])', /^HTTP 400 from http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query: bad_data: .*parse error/],
  ])('%s', async (_name, query, reason) => {
    await expect(source.measure(query, AbortSignal.timeout(5000))).rejects.toMatchObject({
      name: 'NoDataError',
      reason: typeof reason === 'string' ? expect.stringContaining(reason) : expect.stringMatching(reason),
    });
  });

  it('reads "connection refused" once Prometheus is stopped', async () => {
    await prometheus.stop();
    await expect(source.measure(errorRate('canary'), AbortSignal.timeout(5000))).rejects.toMatchObject({
      name: 'NoDataError',
      reason: expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query: connection refused$/),
    });
    // Never healthy on a dead source: the check holds (exit 3) and says why.
    const { code, result } = await check();
    expect(code).toBe(3);
    expect(result.verdict).toBe('hold');
    expect(result.readings.every((r) => r.status === 'nodata' && /connection refused/.test(r.reason))).toBe(true);
  });
});
