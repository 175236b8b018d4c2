/**
 * Benchmark 1, start-up: three commands as whole processes (spawn to exit, as a shell or CI job
 * sees them), each against `node -e 0` timed in the same rounds, and the peak RSS of each:
 * - `rollout --version`;
 * - `rollout validate rollout-plans/docflow-canary.yaml`, its `${VAR}`s set to placeholders;
 * - `rollout status` of a started rollout whose target is a local flag API (read back for drift)
 *   and whose metrics come from a local Prometheus-format /metrics page (an exposition source, so
 *   one scrape and the plan's expressions evaluated in the process), counters moving each scrape;
 * - for information, `validate` without the code cache (ROLLOUT_CODE_CACHE=off): a first run.
 * The untimed warm-up rounds make each command's code cache, so the timed runs start warm, as
 * every run but a command's first does.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeService } from '../test/helpers/fake-service.js';
import { startTestServer } from '../test/helpers/http-server.js';
import { atMost, cleanEnv, MAX_RSS_MB, median, nodeCommand, peakRss, placeholderEnv, PROCESS_RUNS, ratioRow, REPO, report, rolloutCommand, rssRow, timeCommand, timeInterleaved } from './lib.js';
import { metricsPage } from './metrics-page.js';

const EXAMPLE = 'rollout-plans/docflow-canary.yaml';
/** A service's own /metrics page is typically hundreds to a few thousand series. */
const PAGE_SERIES = 1000;

function statusPlan(flagUrl: string, pageUrl: string): string {
  return `version: 1
name: bench-status
stages: [10, 50, 100]
analysis: { interval: 30s, bake: 1h, failureLimit: 2 }
sources:
  backend: { type: exposition, url: "${pageUrl}", timeout: 5s }
metrics:
  - name: error_rate
    source: backend
    expr: 1 - sum(increase(http_requests_total{variant="canary",status!~"5.."})) / sum(increase(http_requests_total{variant="canary"}))
    unit: ratio
    warning: "> 1%"
    critical: "> 5%"
  - name: api_p95
    source: backend
    expr: histogram_quantile(0.95, sum by (le) (rate(api_request_duration_seconds_bucket{variant="canary"})))
    unit: seconds
    warning: "> 200ms"
target:
  type: http
  set: { method: PUT, url: "${flagUrl}/flag", body: { percentage: "{{percent}}" } }
  get: { url: "${flagUrl}/flag", path: percentage }
`;
}

const flag = await startFakeService();
// Pages are made before timing, so no run waits for the server to generate one.
const pages = Array.from({ length: PROCESS_RUNS + 10 }, (_, tick) => metricsPage(PAGE_SERIES, tick));
let scrapes = 0;
const pageServer = await startTestServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
  res.end(pages[Math.min(scrapes++, pages.length - 1)]);
});
const dir = mkdtempSync(join(tmpdir(), 'rollout-bench-startup-'));
try {
  writeFileSync(join(dir, 'rollout.yaml'), statusPlan(flag.url, `${pageServer.url}/metrics`));
  await timeCommand(rolloutCommand(['advance', '--yes'], { cwd: dir })); // start the rollout: status then reads metrics
  if (flag.percentage !== 10) throw new Error(`advance did not start the rollout (flag at ${flag.percentage}%)`);

  const example = readFileSync(join(REPO, EXAMPLE), 'utf8');
  const commands = [
    nodeCommand('node -e 0', ['-e', '0']),
    rolloutCommand(['--version']),
    rolloutCommand(['validate', EXAMPLE], { cwd: REPO, env: cleanEnv(placeholderEnv(example)) }),
    rolloutCommand(['status'], { cwd: dir }),
    // As after an install or upgrade: the first run of a command, which compiles all it runs.
    rolloutCommand(['validate', EXAMPLE], { cwd: REPO, env: cleanEnv({ ...placeholderEnv(example), ROLLOUT_CODE_CACHE: 'off' }) }),
  ];
  const before = scrapes;
  const [zero, version, validate, status, coldValidate] = (await timeInterleaved(commands)).map(median) as [number, number, number, number, number];
  if (scrapes - before < PROCESS_RUNS) throw new Error(`status scraped the page ${scrapes - before} times in ${PROCESS_RUNS} runs`);

  const reference = { label: 'node -e 0', ms: zero };
  report(ratioRow('start-up: rollout --version', { ms: version }, reference, (r) => atMost(1.1, r)));
  report(ratioRow(`start-up: rollout validate ${EXAMPLE.replace('rollout-plans/', '')}`, { ms: validate }, reference, (r) => atMost(1.5, r)));
  report(ratioRow('start-up: rollout status (flag API + /metrics page)', { ms: status }, reference, (r) => atMost(2.5, r)));
  report(ratioRow('start-up: validate without the code cache (info)', { ms: coldValidate }, reference));

  const peaks: number[] = [];
  for (const command of commands.slice(0, 4)) peaks.push(await peakRss(command));
  const [zeroRss, versionRss, validateRss, statusRss] = peaks as [number, number, number, number];
  report(rssRow('peak RSS: rollout --version', versionRss, zeroRss, MAX_RSS_MB));
  report(rssRow('peak RSS: rollout validate', validateRss, zeroRss, MAX_RSS_MB));
  report(rssRow('peak RSS: rollout status', statusRss, zeroRss, MAX_RSS_MB));
} finally {
  rmSync(dir, { recursive: true, force: true });
  await flag.close();
  await pageServer.close();
}
