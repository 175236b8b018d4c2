/**
 * A generated /metrics page (Prometheus text format 0.0.4) of a service like the one
 * rollout-plans/exposition-scrape.yaml watches: its request counters and latency histograms by
 * route and variant (the series that plan's expressions read), next to as many series the plan
 * does not read (per-tenant counters, database histograms, process gauges). About half the series
 * are read, so neither the parser's skipping of unread lines nor its reading of kept ones
 * dominates a figure.
 *
 * Counters grow with `tick` (one scrape interval of traffic per tick), so two pages a tick apart
 * give increase() and rate() something to compute; histogram buckets stay cumulative.
 */

const METHODS = ['GET', 'POST'];
const STATUSES = ['200', '201', '404', '500', '503'];
const VARIANTS = ['canary', 'stable'];
const SECONDS_BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
const MS_BUCKETS = ['1', '2', '5', '10', '20', '50', '100', '200', '500', '1000', '2000', '+Inf'];
const TIERS = ['free', 'pro', 'enterprise'];
const TOPICS = 20;
const DEFAULT_LABEL = 'app="docflow-backend"';

/** Series per unit of `scale`: what `seriesFor` and `scaleFor` convert with. */
const SERIES_PER_SCALE =
  METHODS.length * STATUSES.length * VARIANTS.length + // http_requests_total
  VARIANTS.length * (SECONDS_BUCKETS.length + 2) + // api_request_duration_seconds
  TIERS.length * 8 + // tenant_requests_total
  (SECONDS_BUCKETS.length + 2) * 2; // db_query_duration_seconds
const FIXED_SERIES = TOPICS * VARIANTS.length * (MS_BUCKETS.length + 2) + 3;

/** The scale that gives about `series` series. */
export function scaleFor(series: number): number {
  return Math.max(1, Math.round((series - FIXED_SERIES) / SERIES_PER_SCALE));
}

/** The route of index `i`: one in eight is a Phase 1 admin route the example plan singles out. */
function route(i: number): string {
  switch (i % 8) {
    case 0:
      return `/api/admin/queue/items-${i}`;
    case 1:
      return `/api/admin/analytics/reports-${i}`;
    default:
      return `/api/v1/documents/${i}/revisions`;
  }
}

/** A deterministic per-series traffic level, so pages are the same from run to run. */
function level(i: number): number {
  return 50 + ((i * 7919) % 950);
}

/** Writes the page in pieces; joining once at the end keeps generation linear. */
class Page {
  private readonly parts: string[] = [];
  family(name: string, type: string, help: string): void {
    this.parts.push(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
  }
  /** Every sample carries the service's default label last, as prom-client's setDefaultLabels writes it. */
  sample(name: string, labels: string, value: number | string): void {
    this.parts.push(`${name}{${labels}${labels ? ',' : ''}${DEFAULT_LABEL}} ${value}\n`);
  }
  text(): string {
    return this.parts.join('');
  }
  /** A histogram's buckets, sum and count; `share(b)` is the cumulative share of observations up to bucket b. */
  histogram(name: string, labels: string, bounds: string[], count: number, share: (b: number) => number, mean: number): void {
    bounds.forEach((le, b) => this.sample(`${name}_bucket`, `${labels},le="${le}"`, Math.round(count * share(b))));
    this.sample(`${name}_sum`, labels, +(count * mean).toFixed(3));
    this.sample(`${name}_count`, labels, count);
  }
}

/** Cumulative share of observations in buckets 0..b: most land in the middle buckets, all by the last. */
const cumulative = (bounds: string[]) => (b: number) => (b === bounds.length - 1 ? 1 : Math.min(1, ((b + 1) / (bounds.length - 3)) ** 2));

/** The page at `tick` with about `series` series. */
export function metricsPage(series: number, tick: number): string {
  const scale = scaleFor(series);
  const page = new Page();
  const t = tick + 1; // counters are never zero, as on a service that has been up a while

  page.family('http_requests_total', 'counter', 'HTTP requests served, by route, method, status and cohort.');
  for (let r = 0; r < scale; r++) {
    for (const method of METHODS) {
      for (const status of STATUSES) {
        for (const variant of VARIANTS) {
          const share = status.startsWith('5') ? 0.002 : status === '404' ? 0.01 : 0.4;
          page.sample('http_requests_total', `method="${method}",route="${route(r)}",status="${status}",variant="${variant}"`, Math.round(level(r) * share * t));
        }
      }
    }
  }

  page.family('api_request_duration_seconds', 'histogram', 'API request latency.');
  for (let r = 0; r < scale; r++) {
    for (const variant of VARIANTS) {
      page.histogram('api_request_duration_seconds', `route="${route(r)}",variant="${variant}"`, SECONDS_BUCKETS, level(r) * t, cumulative(SECONDS_BUCKETS), 0.08);
    }
  }

  page.family('publish_latency_ms', 'histogram', 'Time to publish a document, in milliseconds.');
  for (let topic = 0; topic < TOPICS; topic++) {
    for (const variant of VARIANTS) {
      page.histogram('publish_latency_ms', `topic="documents-${topic}",variant="${variant}"`, MS_BUCKETS, level(topic) * t, cumulative(MS_BUCKETS), 12);
    }
  }

  // What the plan does not read: most of a real page.
  page.family('tenant_requests_total', 'counter', 'Requests by tenant and pricing tier.');
  for (let n = 0; n < scale * 8; n++) {
    for (const tier of TIERS) page.sample('tenant_requests_total', `tenant="tenant-${String(n).padStart(6, '0')}",tier="${tier}"`, level(n) * t);
  }
  page.family('db_query_duration_seconds', 'histogram', 'Database query latency by statement.');
  for (let q = 0; q < scale; q++) {
    for (const operation of ['read', 'write']) {
      page.histogram('db_query_duration_seconds', `statement="stmt_${q}",operation="${operation}"`, SECONDS_BUCKETS, level(q) * t, cumulative(SECONDS_BUCKETS), 0.004);
    }
  }
  page.family('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.');
  page.sample('process_resident_memory_bytes', '', 180_000_000 + tick);
  page.family('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.');
  page.sample('process_cpu_seconds_total', '', (12.5 * t).toFixed(2));
  page.family('nodejs_eventloop_lag_seconds', 'gauge', 'Lag of event loop in seconds.');
  page.sample('nodejs_eventloop_lag_seconds', '', 0.0021);
  return page.text();
}
