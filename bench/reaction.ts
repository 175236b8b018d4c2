/**
 * Benchmark 6, reaction: how long from a canary turning bad to the rollback write reaching the
 * flag API, end to end: a REAL Prometheus scraping a local service every second, `rollout run`
 * as a process polling it every second (interval 1s, failureLimit 2), the service's flag API as
 * the target. Target: ≤ interval × failureLimit + 2 s = 4 s, the 2 s being one scrape for the bad
 * traffic to reach Prometheus and one more interval of slack for reads, writes and scheduling.
 *
 * Each trial starts a fresh run (state in a new directory) and waits until it has applied 10 %
 * and judged the canary healthy; then, at a random moment (so the onset falls anywhere between
 * scrapes and polls), half the canary's requests start failing. The figure is the time from that
 * moment to the PUT of 0 % arriving, both read from this process's clock. Traffic is counted per
 * trial (a `trial` label), so one trial's errors never leak into the next one's rate window.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canaryPlan } from '../test/helpers/canary-plan.js';
import { sendJson, startTestServer, type TestServer } from '../test/helpers/http-server.js';
import { startPrometheus } from '../test/helpers/prometheus.js';
import { atMost, BIN, cleanEnv, formatMs, median, progress, report, sleep, waitFor } from './lib.js';

const INTERVAL_S = 1;
const FAILURE_LIMIT = 2;
const BOUND_MS = INTERVAL_S * FAILURE_LIMIT * 1000 + 2000;
/** A trial takes about 9 s (start, healthy polls, reaction, the run's recovery watch): the minimum count. */
const TRIALS = 10;
const REQUESTS_PER_SCRAPE = 100;

/** The canary: request counters per trial on /metrics, growing by one second of traffic per scrape, and its flag API. */
class Canary {
  server!: TestServer;
  trial = 0;
  bad = false;
  percentage = 0;
  /** performance.now() of each PUT, by the percentage it set. */
  puts: { percent: number; at: number }[] = [];
  private readonly counts = new Map<number, { requests: number; errors: number }>();

  async start(): Promise<void> {
    this.server = await startTestServer((req, res) => {
      if (req.url === '/metrics') return this.scrape(res);
      if (req.url === '/flag' && req.method === 'PUT') {
        this.percentage = (JSON.parse(req.body) as { percentage: number }).percentage;
        this.puts.push({ percent: this.percentage, at: performance.now() });
      }
      if (req.url === '/flag') return sendJson(res, 200, { percentage: this.percentage });
      res.writeHead(404).end();
    });
  }

  private scrape(res: ServerResponse): void {
    const count = this.counts.get(this.trial) ?? { requests: 0, errors: 0 };
    count.requests += REQUESTS_PER_SCRAPE;
    if (this.bad) count.errors += REQUESTS_PER_SCRAPE / 2;
    this.counts.set(this.trial, count);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      '# TYPE http_requests_total counter\n' +
        `http_requests_total{trial="${this.trial}",variant="canary",status="200"} ${count.requests - count.errors}\n` +
        `http_requests_total{trial="${this.trial}",variant="canary",status="500"} ${count.errors}\n`,
    );
  }
}

function plan(canary: Canary, prometheusUrl: string): string {
  return canaryPlan({
    name: 'bench-reaction',
    stages: '[{ percent: 10, bake: 1h }, 100]',
    analysis: `{ interval: ${INTERVAL_S}s, failureLimit: ${FAILURE_LIMIT}, noData: hold }`,
    prometheusUrl,
    flagUrl: `${canary.server.url}/flag`,
    series: `http_requests_total{trial="${canary.trial}",variant="canary"`,
    window: '5s',
  });
}

/** One trial: a fresh `rollout run`, healthy at 10 %, then the onset; resolves with the reaction in ms. */
async function trial(canary: Canary, prometheusUrl: string): Promise<number> {
  canary.trial++;
  canary.bad = false;
  canary.percentage = 0;
  canary.puts = [];
  const dir = mkdtempSync(join(tmpdir(), 'rollout-bench-reaction-'));
  writeFileSync(join(dir, 'rollout.yaml'), plan(canary, prometheusUrl));
  const child = spawn(process.execPath, [BIN, 'run', '--json'], { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const healthyPolls = () => output.split('\n').filter((line) => line.includes('"kind":"poll"') && line.includes('"verdict":"healthy"')).length;
  try {
    await waitFor(() => canary.puts.some((p) => p.percent === 10), 15_000, `the run did not apply 10 %:\n${output}`);
    await waitFor(() => healthyPolls() >= 2, 15_000, `the run did not judge the canary healthy:\n${output}`);
    await sleep(Math.random() * INTERVAL_S * 1000);
    canary.bad = true;
    const onset = performance.now();
    await waitFor(() => canary.puts.some((p) => p.percent === 0), 30_000, `no rollback write:\n${output}`);
    canary.bad = false;
    const code = await exited;
    if (code !== 4) throw new Error(`rollout run exited ${code}, not 4 (rolled back):\n${output}`);
    return canary.puts.find((p) => p.percent === 0)!.at - onset;
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

const canary = new Canary();
await canary.start();
const prometheus = await startPrometheus({ targets: [`127.0.0.1:${canary.server.port}`], scrapeIntervalSeconds: 1 });
try {
  const reactions: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    reactions.push(await trial(canary, prometheus.url));
    progress(`trial ${i + 1}: ${formatMs(reactions[i]!)}`);
  }
  const reaction = median(reactions);
  report({
    benchmark: 'reaction: bad canary → rollback write, real Prometheus',
    measured: `${formatMs(reaction)} (max of ${TRIALS}: ${formatMs(Math.max(...reactions))})`,
    reference: `${formatMs(BOUND_MS)} (interval × failureLimit + 2 s)`,
    ratio: reaction / BOUND_MS,
    target: atMost(1, reaction / BOUND_MS),
  });
} finally {
  await prometheus.stop();
  await canary.server.close();
}
