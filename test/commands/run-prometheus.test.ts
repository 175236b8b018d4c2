/**
 * `rollout run` against a REAL Prometheus (1 s scrapes) reading a local service the test controls,
 * with the service's flag API as the target: a healthy canary goes to 100 % (exit 0); a canary that
 * turns bad at 25 % is rolled back (exit 4), and the time from the canary turning bad to the
 * rollback write arriving at the flag API is measured and held to the bound of the issue.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canaryPlan } from '../helpers/canary-plan.js';
import { runCli } from '../helpers/cli.js';
import { sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';
import { startPrometheus, type PrometheusServer } from '../helpers/prometheus.js';

const INTERVAL_MS = 1000;
const FAILURE_LIMIT = 2;
const SCRAPE_MS = 1000;
const WINDOW = '5s';
/**
 * The measured delay may exceed interval × failureLimit by:
 * - 2 scrapes: bad requests (counted on a 100 ms tick) reach Prometheus at its next scrape (≤ 1 s),
 *   and the 5 s rate window then needs at most one more scrape of 50 %-error traffic to cross the
 *   5 % limit: after one scrape interval of bad traffic the ratio is ≥ 0.5 × 1/5 = 10 %;
 * - 2500 ms for one read (a Prometheus query) and one write (the PUT), both on localhost, and the
 *   scheduling of a Node process on a loaded CI machine: 5× the 500 ms they may take there.
 * Measured on an idle machine: about 2000 ms in all (bench/reaction.ts holds the tighter figure).
 */
const SLACK_MS = 2 * SCRAPE_MS + 2500;
const BOUND_MS = INTERVAL_MS * FAILURE_LIMIT + SLACK_MS;
const REQUESTS_PER_TICK = 200;

/** The canary's traffic as counters on /metrics, and the flag API that sets its percentage. */
class CanaryService {
  server!: TestServer;
  percentage = 0;
  errorRatio = 0.005;
  /** When the canary turns bad: the moment the flag reaches this percentage. */
  breakAt?: number;
  /** Date.now() when the canary turned bad, and when each PUT of the flag arrived. */
  onsetAt?: number;
  readonly puts: { percent: number; at: number }[] = [];
  private requests = 0;
  private errors = 0;
  private readonly ticker = setInterval(() => {
    this.requests += REQUESTS_PER_TICK;
    this.errors += Math.round(REQUESTS_PER_TICK * this.errorRatio);
  }, 100);

  async start(): Promise<void> {
    this.server = await startTestServer((req, res) => {
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(
          '# TYPE http_requests_total counter\n' +
            `http_requests_total{variant="canary",status="200"} ${this.requests - this.errors}\n` +
            `http_requests_total{variant="canary",status="500"} ${this.errors}\n`,
        );
        return;
      }
      if (req.url === '/flag' && req.method === 'PUT') {
        const percent = (JSON.parse(req.body) as { percentage: number }).percentage;
        this.puts.push({ percent, at: Date.now() });
        this.percentage = percent;
        if (this.breakAt !== undefined && percent >= this.breakAt && this.onsetAt === undefined) {
          this.onsetAt = Date.now();
          this.errorRatio = 0.5;
        }
      }
      if (req.url === '/flag') return sendJson(res, 200, { percentage: this.percentage });
      res.writeHead(404).end();
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.ticker);
    await this.server.close();
  }
}

let service: CanaryService;
let prometheus: PrometheusServer;

function planIn(dir: string): void {
  const plan = canaryPlan({
    name: 'prom-canary',
    stages: '[10, 25, 50, 100]',
    analysis: `{ interval: ${INTERVAL_MS}ms, bake: 2s, failureLimit: ${FAILURE_LIMIT} }`,
    prometheusUrl: prometheus.url,
    flagUrl: `${service.server.url}/flag`,
    series: 'http_requests_total{variant="canary"',
    window: WINDOW,
  });
  writeFileSync(join(dir, 'rollout.yaml'), plan);
}

const runIn = (dir: string) => runCli(['run', '--json'], { cwd: dir, timeoutMs: 40_000 });
const events = (stdout: string) =>
  stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; action?: string; from?: number; to?: number });

beforeAll(async () => {
  service = new CanaryService();
  await service.start();
  prometheus = await startPrometheus({ targets: [`127.0.0.1:${service.server.port}`], scrapeIntervalSeconds: SCRAPE_MS / 1000 });
  // rate() needs two samples in its window before the first judgement.
  await new Promise((r) => setTimeout(r, 2 * SCRAPE_MS + 500));
});
afterAll(async () => {
  await prometheus?.stop();
  await service?.stop();
});

describe('rollout run with a real Prometheus', () => {
  it('takes a healthy canary to 100 % with exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-prom-run-'));
    planIn(dir);
    const r = await runIn(dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(service.puts.map((p) => p.percent)).toEqual([10, 25, 50, 100]);
    const moves = events(r.stdout).filter((e) => e.kind === 'event').map((e) => e.action);
    expect(moves).toEqual(['start', 'advance', 'advance', 'advance', 'complete']);
  });

  it('rolls back a canary that turns bad at 25 % (exit 4) within interval × failureLimit + slack', async () => {
    service.puts.length = 0;
    service.percentage = 0;
    service.breakAt = 25;
    const dir = mkdtempSync(join(tmpdir(), 'rollout-prom-run-'));
    planIn(dir);
    const r = await runIn(dir);
    expect(r.code).toBe(4);
    expect(service.puts.map((p) => p.percent)).toEqual([10, 25, 0]);
    const rollback = events(r.stdout).find((e) => e.kind === 'event' && e.action === 'rollback');
    expect(rollback).toMatchObject({ from: 25, to: 0 });
    const delay = service.puts[2]!.at - service.onsetAt!;
    console.log(`onset → rollback write: ${delay} ms (bound ${BOUND_MS} ms = ${INTERVAL_MS} ms × ${FAILURE_LIMIT} + ${SLACK_MS} ms slack)`);
    expect(delay).toBeLessThanOrEqual(BOUND_MS);
    // Not sooner than failureLimit polls can see it: the anti-flapping count is not skipped.
    expect(delay).toBeGreaterThanOrEqual(INTERVAL_MS * (FAILURE_LIMIT - 1));
  });
});
