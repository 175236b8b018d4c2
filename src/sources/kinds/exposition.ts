/**
 * The `exposition` source type: a Prometheus text-format /metrics page, scraped directly, and the
 * PromQL subset of SPEC §2.2 evaluated over it. Only the parser is loaded to validate a plan; the
 * scraper and evaluator when metrics are first read.
 */
import { parseExpression } from '../exposition/promql.js';
import { checkRangesWithin } from './count-window.js';
import { buildHttpSource, loadHttpSourceSchema, type HttpSourceConfig, type HttpSourceShape } from './http-source.js';
import { defineSourceKind } from './kind.js';

/** The `exposition` source type. */
export const expositionKind = defineSourceKind<HttpSourceShape, HttpSourceConfig>({
  type: 'exposition',
  description: 'A Prometheus text-format /metrics page, scraped directly.',
  schema: loadHttpSourceSchema,
  query: {
    field: 'expr',
    description: 'Expression over scraped series',
    check(text) {
      try {
        parseExpression(text);
        return undefined;
      } catch (err) {
        return {
          message: `cannot parse expression: ${(err as Error).message}`,
          hint: 'exposition sources support selectors, rate/increase, sum [by], histogram_quantile and + - * /',
        };
      }
    },
    // Without increase() a count is a running total; increase(x[5m]) is five minutes' worth, however often polled.
    checkCount(text, intervalMs) {
      if (/\bincrease\s*\(/.test(text)) return checkRangesWithin(text, intervalMs);
      return { message: 'this expression has no increase(): a running total would be counted again every poll', hint: 'count since the previous scrape, e.g. sum(increase(http_requests_total{variant="canary"}))' };
    },
  },
  build: buildHttpSource,
  async create(config, context) {
    const { createExpositionSource } = await import('../exposition.js');
    // increase/rate need the scrape before: kept beside the state, so two processes a minute apart can compute one.
    return createExpositionSource(config, { expressions: context.queries, scrapeFile: context.stateFile('scrape'), clock: context.clock });
  },
  init: {
    label: 'a /metrics page in Prometheus text format, scraped directly',
    url: { message: 'URL of the /metrics page', suggest: 'http://127.0.0.1:8080/metrics' },
    assumptions: [
      'Expressions are computed from the last two scrapes of the page (one interval apart), and assume',
      'requests labelled variant="canary"|"stable"; adjust names and labels to yours.',
    ],
    queries: {
      // 1 - (non-5xx share): a 5xx selector matches nothing until the first error, which would read as "no data".
      error_rate: {
        unit: 'ratio',
        text: '1 - sum(increase(http_requests_total{variant="canary",status!~"5.."})) / sum(increase(http_requests_total{variant="canary"}))',
      },
      p95_latency: { unit: 'seconds', text: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{variant="canary"})))' },
      avg_response_time: {
        unit: 'seconds',
        text: 'sum(increase(http_request_duration_seconds_sum{variant="canary"})) / sum(increase(http_request_duration_seconds_count{variant="canary"}))',
      },
    },
  },
});
