/**
 * The `prometheus` source: one instant query (`GET <url>/api/v1/query`) per metric. The same API
 * is served by Thanos, Mimir (under a path prefix such as `/prometheus`) and VictoriaMetrics.
 */
import type { HttpSourceConfig } from './kinds/http-source.js';
import { fetchPreparedJson, prepareSourceRequest, type Prepared } from './http-json.js';
import { toFiniteNumber } from './json-path.js';
import { NoDataError, type MetricSource } from './source.js';

/** A source that evaluates PromQL queries against a Prometheus-compatible HTTP API. */
export function createPrometheusSource(config: HttpSourceConfig): MetricSource {
  // The URL parsed and its credentials moved into a header once, not for every query of every poll;
  // on first use, so that a bad URL fails reads (with its reason), not the building of the sources.
  let endpoint: QueryEndpoint | undefined;
  const options = { describeErrorBody: describeApiError };
  return {
    async measure(query, signal) {
      const { prepared, queryUrlPrefix } = (endpoint ??= queryEndpoint(config));
      const url = `${queryUrlPrefix}${new URLSearchParams({ query }).toString()}`;
      return sampleOf(await fetchPreparedJson({ ...prepared, url, signal }, options));
    },
  };
}

interface QueryEndpoint {
  prepared: Prepared;
  /** The query URL up to the encoded query: ends with `?` or `&`. */
  queryUrlPrefix: string;
}

// Appending to the path keeps any prefix (Mimir's `/prometheus`, VictoriaMetrics' `/select/0/prometheus`)
// and any query parameters the base URL already has (e.g. a tenant), re-encoded as
// `searchParams.append` would; `query` goes last. The fragment is never sent.
function queryEndpoint(config: HttpSourceConfig): QueryEndpoint {
  const url = new URL(config.url);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`;
  const params = url.searchParams.toString();
  url.search = '';
  url.hash = '';
  const prepared = prepareSourceRequest({ url: url.toString(), headers: config.headers, timeoutMs: config.timeoutMs });
  return { prepared, queryUrlPrefix: `${prepared.url}?${params === '' ? '' : `${params}&`}` };
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
