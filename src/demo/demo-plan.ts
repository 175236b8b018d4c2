/**
 * The plan `rollout demo` runs against the simulated service: the shape of a real plan (stages,
 * bakes, an http flag target with read-back, a JSON summary and a scraped /metrics page, the
 * runbooks' limits) with bakes of seconds instead of hours.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Scenario, SimulatedService } from './simulated-service.js';

/** The demo's poll interval; the summary window stays under it, so two polls never count a request twice. */
const INTERVAL = '1s';
const SUMMARY_WINDOW = '800ms';

/** Writes `demo-<scenario>.yaml` into `dir` and returns its path. */
export async function writeDemoPlan(dir: string, scenario: Scenario, service: Pick<SimulatedService, 'flagUrl' | 'metricsUrl' | 'summaryUrl'>): Promise<string> {
  const file = join(dir, `demo-${scenario}.yaml`);
  await writeFile(file, renderDemoPlan(scenario, service));
  return file;
}

/** The demo plan's YAML for one scenario. */
export function renderDemoPlan(scenario: Scenario, service: Pick<SimulatedService, 'flagUrl' | 'metricsUrl' | 'summaryUrl'>): string {
  return `# The plan \`rollout demo\` wrote for its ${scenario} run against the simulated service.
version: 1
name: demo-${scenario}
description: A ${scenario} canary behind the simulated service's flag
stages:
  - { percent: 10, bake: 2s }
  - { percent: 25, bake: 2s }
  - { percent: 50, bake: 2s }
  - { percent: 100, bake: 2s }
analysis:
  interval: ${INTERVAL}
  failureLimit: 2          # one critical blip is tolerated; two in a row roll back
  noData: hold
  # No warm-up: the scraped rates start at the previous poll, so a bad stage shows at once.
  warmup: 0s
  maxHold: 20s
  onMaxHold: fail
  minRequests: 20
  requests: { source: summary, path: requests }
rollback:
  to: 0
sources:
  summary:
    type: json
    url: ${JSON.stringify(`${service.summaryUrl}?window=${SUMMARY_WINDOW}`)}
    timeout: 2s
  scrape:
    type: exposition
    url: ${JSON.stringify(service.metricsUrl)}
    timeout: 2s
metrics:
  # From the scraped page: increase() covers exactly the time since the previous poll, so a burst
  # of errors shows in one poll only. (This service exports the status="500" series from the start.)
  - name: error_rate
    source: scrape
    expr: sum(increase(http_requests_total{variant="canary",status="500"})) / sum(increase(http_requests_total{variant="canary"}))
    unit: ratio
    warning: "> 1%"
    critical: "> 5%"
  - name: avg_response_time
    source: summary
    path: avgMs
    unit: milliseconds
    warning: "> 3s"
    critical: "> 5s"
  - name: p95_latency
    source: scrape
    expr: histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{variant="canary"})))
    unit: seconds
    warning: "> 5s"
    critical: "> 10s"
target:
  type: http
  set: { method: PUT, url: ${JSON.stringify(service.flagUrl)}, body: { percentage: "{{percent}}" } }
  get: { url: ${JSON.stringify(service.flagUrl)}, path: percentage }
  timeout: 2s
  retries: 1
`;
}
