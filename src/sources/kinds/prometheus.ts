/** The `prometheus` source type: PromQL instant queries against a Prometheus-compatible HTTP API. */
import { formatDuration } from '../../plan/duration.js';
import { checkRangesWithin, rangesOf } from './count-window.js';
import { buildHttpSource, loadHttpSourceSchema, type HttpSourceConfig, type HttpSourceShape } from './http-source.js';
import { defineSourceKind, type QueryProblem } from './kind.js';

/** A count without a range is a counter's running total; one with a range must stay within the poll interval. */
function checkCountRange(text: string, intervalMs: number): QueryProblem | undefined {
  if (rangesOf(text).length > 0) return checkRangesWithin(text, intervalMs);
  return {
    message: 'this query has no range: a running total would be counted again every poll',
    hint: `count since the previous poll, e.g. sum(increase(http_requests_total{variant="canary"}[${formatDuration(intervalMs)}]))`,
  };
}

/** The `prometheus` source type. */
export const prometheusKind = defineSourceKind<HttpSourceShape, HttpSourceConfig>({
  type: 'prometheus',
  description: 'Prometheus HTTP API (also Thanos, Mimir, VictoriaMetrics).',
  schema: loadHttpSourceSchema,
  query: { field: 'query', description: 'PromQL instant query', checkCount: checkCountRange },
  build: buildHttpSource,
  create: async (config) => (await import('../prometheus.js')).createPrometheusSource(config),
  init: {
    label: 'Prometheus HTTP API (also Thanos, Mimir, VictoriaMetrics)',
    url: { message: 'Prometheus URL', suggest: 'http://127.0.0.1:9090' },
    assumptions: ['The queries assume requests labelled variant="canary"|"stable"; adjust names and labels to yours.'],
    queries: {
      error_rate: {
        unit: 'ratio',
        text: 'sum(rate(http_requests_total{variant="canary",status=~"5.."}[5m])) / sum(rate(http_requests_total{variant="canary"}[5m]))',
      },
      p95_latency: { unit: 'seconds', text: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{variant="canary"}[5m])))' },
      avg_response_time: {
        unit: 'seconds',
        text: 'sum(rate(http_request_duration_seconds_sum{variant="canary"}[5m])) / sum(rate(http_request_duration_seconds_count{variant="canary"}[5m]))',
      },
    },
  },
});
