/**
 * The `json` source: any JSON endpoint (e.g. a tRPC metrics route); each metric is a dotted path
 * into the document. The document is fetched once per poll however many metrics read it.
 */
import type { HttpSourceConfig } from './kinds/http-source.js';
import { fetchJson } from './http-json.js';
import { readJsonPath, toFiniteNumber } from './json-path.js';
import { NoDataError, type MetricSource } from './source.js';

/** A source whose metrics are paths into one JSON document, fetched once per poll. */
export function createJsonSource(config: HttpSourceConfig): MetricSource {
  // Several metrics of a poll read different paths of the same document: they share one fetch
  // (and its failure), so the poll sees one consistent snapshot and the endpoint one request.
  // The first reader's signal governs the fetch; every read of a poll has the same deadline.
  let document: Promise<unknown> | undefined;
  return {
    async measure(path, signal) {
      document ??= fetchJson({ url: config.url, headers: config.headers, timeoutMs: config.timeoutMs, signal });
      const found = readJsonPath(await document, path);
      if (!found.ok) throw new NoDataError(found.reason);
      const number = toFiniteNumber(found.value);
      if (!number.ok) throw new NoDataError(`path ${path}: ${number.reason}`);
      return number.value;
    },
    async finishPoll() {
      document = undefined;
    },
  };
}
