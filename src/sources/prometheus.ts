/**
 * The `prometheus` source: one instant query (`GET <url>/api/v1/query`) per metric. The same API
 * is served by Thanos, Mimir (under a path prefix such as `/prometheus`) and VictoriaMetrics.
 */
import type { PrometheusSourceConfig } from '../plan/types.js';
import { fetchJson } from './http-json.js';
import { toFiniteNumber } from './json-path.js';
import { NoDataError, type MetricSource } from './source.js';

/** A source that evaluates PromQL queries against a Prometheus-compatible HTTP API. */
export function createPrometheusSource(config: PrometheusSourceConfig): MetricSource {
  return {
    async measure(query, signal) {
      const doc = await fetchJson(
        { url: queryUrl(config.url, query), headers: config.headers, timeoutMs: config.timeoutMs, signal },
        { describeErrorBody: describeApiError },
      );
      return sampleOf(doc);
    },
  };
}

// Appending to the path keeps any prefix (Mimir's `/prometheus`, VictoriaMetrics' `/select/0/prometheus`)
// and any query parameters the base URL already has (e.g. a tenant).
function queryUrl(base: string, query: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`;
  url.searchParams.append('query', query);
  return url.toString();
}

interface ApiResponse {
  status?: unknown;
  errorType?: unknown;
  error?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

function describeApiError(doc: unknown): string | undefined {
  const body = doc as ApiResponse | undefined;
  if (body?.status !== 'error') return undefined;
  return [body.errorType, body.error].filter((part) => typeof part === 'string' && part !== '').join(': ') || 'status "error"';
}

function sampleOf(doc: unknown): number {
  const body = (doc ?? {}) as ApiResponse;
  if (body.status === 'error') throw new NoDataError(`Prometheus error ${describeApiError(body)}`);
  if (body.status !== 'success' || !body.data || typeof body.data !== 'object') {
    throw new NoDataError('not a Prometheus API answer (no status/data): is the url the Prometheus base URL?');
  }
  const { resultType, result } = body.data;
  switch (resultType) {
    case 'vector':
      return valueOf(singleSample(result));
    case 'scalar':
      return valueOf(result);
    case 'matrix':
      throw new NoDataError('query returned a range vector (matrix); drop the [range] or wrap it, e.g. rate(x[5m])');
    case 'string':
      throw new NoDataError('query returned a string, not a number');
    default:
      throw new NoDataError(`unknown result type ${JSON.stringify(resultType)}`);
  }
}

function singleSample(result: unknown): unknown {
  if (!Array.isArray(result)) throw new NoDataError('malformed vector result: not a list of samples');
  if (result.length === 0) throw new NoDataError('empty result: the query matched no series');
  if (result.length > 1) throw new NoDataError(`query returned ${result.length} series; aggregate it, e.g. sum(...)`);
  return (result[0] as { value?: unknown } | null)?.value;
}

// Samples are `[timestamp, "value"]`, the value a string so NaN and ±Inf survive JSON.
function valueOf(sample: unknown): number {
  if (!Array.isArray(sample) || sample.length !== 2) throw new NoDataError('malformed sample: expected [time, value]');
  const number = toFiniteNumber(sample[1]);
  if (!number.ok) throw new NoDataError(number.reason);
  return number.value;
}
