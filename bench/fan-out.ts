/**
 * Benchmark 3, poll fan-out: one readPoll of a plan with 50 metrics on one Prometheus source,
 * against a local stub of the Prometheus query API that answers every query after 20 ms, versus
 * one readPoll of a plan with a single metric on the same source (the time of one query through
 * the same code), interleaved. Queries of a poll run in parallel on kept-alive connections, so 50
 * should take about as long as one. The stub runs in its own process (mode `stub`), as Prometheus
 * would, so serving 50 answers does not compete with the poll for this event loop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/clock.js';
import { shutdown } from '../src/shutdown.js';
import { createSources, readPoll } from '../src/sources/read-metrics.js';
import { sendJson, startTestServer } from '../test/helpers/http-server.js';
import { planFromYaml } from '../test/helpers/plan.js';
import { atMost, median, ratioRow, report, RUNS, spawnSelf } from './lib.js';

const METRICS = 50;
const ANSWER_AFTER_MS = 20;

function plan(url: string, metrics: number) {
  const lines = Array.from(
    { length: metrics },
    (_, i) => `  - { name: m${i}, source: prom, query: 'sum(rate(http_requests_total{route="/r${i}",status=~"5.."}[5m]))', unit: ratio, critical: "> 5%" }`,
  );
  return planFromYaml(`
version: 1
name: fan-out
stages: [10, 100]
sources:
  prom: { type: prometheus, url: "${url}", timeout: 5s }
metrics:
${lines.join('\n')}
target: { type: command, set: [echo, "{{percent}}"] }
`);
}

async function stub(): Promise<void> {
  const server = await startTestServer((_req, res) => {
    setTimeout(() => sendJson(res, 200, { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '0.001'] }] } }), ANSWER_AFTER_MS);
  });
  process.stdout.write(`${server.url}\n`);
}

async function main(): Promise<void> {
  const { child, firstLine: url } = await spawnSelf('stub');
  const dir = mkdtempSync(join(tmpdir(), 'rollout-bench-fanout-'));
  try {
    const contenders = await Promise.all((await Promise.all([plan(url, 1), plan(url, METRICS)])).map(async (p) => ({ plan: p, sources: await createSources(p, { scrapeDir: dir, clock: systemClock }) })));
    const poll = async ({ plan: p, sources }: (typeof contenders)[number]) => {
      const started = performance.now();
      const readings = await readPoll(p, sources);
      const ms = performance.now() - started;
      const missing = readings.metrics.find((m) => m.value === undefined);
      if (missing) throw new Error(`${missing.name}: ${missing.noDataReason}`);
      return ms;
    };
    // Untimed: the first polls open the connections that the timed ones keep using.
    for (let i = 0; i < 3; i++) for (const c of contenders) await poll(c);
    const times = contenders.map(() => [] as number[]);
    for (let round = 0; round < RUNS; round++) {
      for (let k = 0; k < contenders.length; k++) {
        const index = (k + round) % contenders.length;
        times[index]!.push(await poll(contenders[index]!));
      }
    }
    const [one, fifty] = times.map(median) as [number, number];
    report(ratioRow(`poll fan-out: ${METRICS} metrics, stub answers in ${ANSWER_AFTER_MS} ms`, { ms: fifty }, { label: 'a poll of 1 query', ms: one }, (r) => atMost(1.5, r)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    child.kill();
    await shutdown(); // the kept-alive connections would hold the process open
  }
}

if (process.argv[2] === 'stub') await stub();
else await main();
