/**
 * The plan of the reaction measurements (test/commands/run-prometheus.test.ts, bench/reaction.ts):
 * one Prometheus error-rate gate (warning 2 %, critical 5 %) over the canary's counters, and a
 * flag API with read-back at `flagUrl`.
 */
export function canaryPlan(options: {
  name: string;
  stages: string;
  analysis: string;
  prometheusUrl: string;
  flagUrl: string;
  /** The canary's request counter selector, without its closing brace, e.g. `http_requests_total{variant="canary"`. */
  series: string;
  window: string;
}): string {
  const { series, window } = options;
  return `version: 1
name: ${options.name}
stages: ${options.stages}
analysis: ${options.analysis}
sources:
  prom: { type: prometheus, url: "${options.prometheusUrl}", timeout: 10s }
metrics:
  - name: error_rate
    source: prom
    query: sum(rate(${series},status=~"5.."}[${window}])) / sum(rate(${series}}[${window}]))
    unit: ratio
    warning: "> 2%"
    critical: "> 5%"
target:
  type: http
  set: { method: PUT, url: "${options.flagUrl}", body: { percentage: "{{percent}}" } }
  get: { url: "${options.flagUrl}", path: percentage }
`;
}
