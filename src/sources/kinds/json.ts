/** The `json` source type: any JSON endpoint, each metric a dotted path into the document. */
import { parseJsonPath } from '../json-path.js';
import { buildHttpSource, loadHttpSourceSchema, type HttpSourceConfig, type HttpSourceShape } from './http-source.js';
import { defineSourceKind } from './kind.js';

/** The `json` source type. */
export const jsonKind = defineSourceKind<HttpSourceShape, HttpSourceConfig>({
  type: 'json',
  description: 'Any JSON endpoint, read by path.',
  schema: loadHttpSourceSchema,
  query: {
    field: 'path',
    description: 'Dotted path into the JSON document, [n] for array items',
    // Checked when the plan is validated, not first at poll time.
    check(text) {
      const parsed = parseJsonPath(text);
      return parsed.ok ? undefined : { message: parsed.reason, hint: 'write a dotted path with [n] for array items, e.g. result.data.json.errorRate' };
    },
  },
  build: buildHttpSource,
  create: async (config) => (await import('../json.js')).createJsonSource(config),
  init: {
    label: 'a JSON endpoint (e.g. a metrics summary route)',
    url: { message: 'URL of the JSON metrics endpoint' },
    assumptions: [
      'Paths into the JSON document (dotted, [n] for array items); point them at your fields. A rate',
      'given in percent (0.5 = 0.5 %) needs unit: percent; times in seconds need unit: seconds.',
    ],
    queries: {
      error_rate: { unit: 'ratio', text: 'errorRate' },
      p95_latency: { unit: 'milliseconds', text: 'p95ResponseTime' },
      avg_response_time: { unit: 'milliseconds', text: 'avgResponseTime' },
    },
  },
});
