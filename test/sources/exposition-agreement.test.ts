/**
 * The exposition source against a REAL Prometheus reading the same pages: every upstream case
 * (test/fixtures/exposition/upstream-cases.ts) is accepted or refused as Prometheus's scrape does,
 * and the supported PromQL subset gives Prometheus's values on one page: instant expressions
 * exactly, rates over a window within 1 %.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createExpositionSource } from '../../src/sources/exposition.js';
import { NoDataError, type MetricSource } from '../../src/sources/source.js';
import { bytesOf, CASES } from '../fixtures/exposition/upstream-cases.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';
import { startPrometheus, type PrometheusServer } from '../helpers/prometheus.js';


/**
 * A page whose lines exercise the rules of issue 16: POSIX classes and RE2 syntax in regexes, a
 * series written twice, an empty label, a `__`-prefixed label, bucket bounds Go reads its own way.
 */
const STATIC_PAGE = `# TYPE h counter
h{code="200",path="/a"} 10
h{code="500",path="/a"} 2
h{code="404",path="/b"} 3
h{code="200",path="/b"} 7
h{code="503",path="/c"} 1
h{code="x00",path="/c"} 4
h{code="A00",path="/Q.*"} 6
x{a="",b="1"} 1
y{b="1"} 2
d 1
d 2
d2{a="1",b="2"} 5
d2{b="2",a="1"} 6
u{__x="1"} 3
lat_bucket{le="0.1"} 5
lat_bucket{le="0.5"} 8
lat_bucket{le="1"} 9
lat_bucket{le="+Inf"} 10
hb_bucket{le="1_0"} 50
hb_bucket{le="0x10"} 70
hb_bucket{le="0x1p5"} 80
hb_bucket{le="+Inf"} 100
`;

const INSTANT = [
  'sum(h)',
  'sum(h{code="200"})',
  'sum(h{code!="200"})',
  'sum(h{code=~"5.."})',
  'sum(h{code!~"5.."})',
  'sum(h{code=~"[[:digit:]]00"})',
  'sum(h{code!~"[[:digit:]]00"})',
  'sum(h{code=~"[[:alpha:]]00"})',
  'sum(h{path=~"(?i)/A"})',
  'sum(h{path=~"/a|/b"})',
  'sum(h{path!~"/[ab]"})',
  'sum(h{code=~"\\\\d+"})',
  'sum(h{code=~"5\\\\d\\\\d"})',
  'sum(h{path=~"\\\\Q/Q.*\\\\E"})',
  'sum(h{path=~"/\\\\pL"})',
  'sum(h{missing=""})',
  'sum(h{code=~".*"}) - sum(h{code=~".+"})',
  'sum by (path) (h{path="/a"})',
  'sum(h{path="/a"}) / sum(h)',
  'sum(h{code="500"}) * 100 - 3',
  '2 * sum(h{code=~"2.."}) + sum(h{code=~"4.."}) / 3',
  '-sum(h) + 1',
  'sum by (code) (h{code="200"}) / sum by (code) (h{code="200",path="/a"})',
  'x / y',
  'sum(d)',
  'sum(d2)',
  'sum(u{__x="1"})',
  'histogram_quantile(0.5, lat_bucket)',
  'histogram_quantile(0.9, sum by (le) (lat_bucket))',
  'histogram_quantile(0.25, hb_bucket)',
  'histogram_quantile(0.75, hb_bucket)',
];

/** Counters that grow steadily with the wall clock, so any window's rate is the same. */
const RATES = [
  'sum(rate(r[10s]))',
  'sum(rate(r{k="a"}[10s])) / sum(rate(r[10s]))',
  'sum(increase(r{k="b"}[10s]))',
  'histogram_quantile(0.5, sum by (le) (rate(rl_bucket[10s])))',
];
const WINDOW_MS = 10_000;

function dynamicPage(): string {
  const seconds = Date.now() / 1000;
  return [
    '# TYPE r counter',
    `r{k="a"} ${1e6 + 100 * seconds}`,
    `r{k="b"} ${1e6 + 50 * seconds}`,
    '# TYPE rl histogram',
    `rl_bucket{le="0.1"} ${1e6 + 30 * seconds}`,
    `rl_bucket{le="1"} ${1e6 + 80 * seconds}`,
    `rl_bucket{le="+Inf"} ${1e6 + 100 * seconds}`,
    '',
  ].join('\n');
}

/** Prometheus's value of an instant query now: a number, or null for an empty result. */
async function promValue(prometheus: PrometheusServer, query: string): Promise<number | null> {
  const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: unknown } };
  if (body.status !== 'success') throw new Error(`${query}: ${body.error}`);
  const { resultType, result } = body.data;
  if (resultType === 'scalar') return Number((result as [number, string])[1]);
  const samples = result as { value: [number, string] }[];
  if (samples.length > 1) throw new Error(`${query}: ${samples.length} series`);
  return samples.length === 0 ? null : Number(samples[0]!.value[1]);
}

/** Our value: a number, or null for no data because the result is empty. */
async function ourValue(source: MetricSource, query: string): Promise<number | null | string> {
  try {
    return await source.measure(query, AbortSignal.timeout(10_000));
  } catch (err) {
    if (err instanceof NoDataError) return /^empty result/.test(err.reason) ? null : `nodata: ${err.reason}`;
    throw err;
  }
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('exposition source against a real Prometheus', () => {
  let page: TestServer;
  let caseServers: TestServer[];
  let prometheus: PrometheusServer;

  beforeAll(async () => {
    page = await startTestServer((_req, res) => void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(STATIC_PAGE + dynamicPage()));
    caseServers = await Promise.all(
      CASES.map((c) => startTestServer((_req, res) => void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(bytesOf(c)))),
    );
    prometheus = await startPrometheus({ targets: [page, ...caseServers].map((s) => `127.0.0.1:${s.port}`) });
  }, 90_000);

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all([page, ...(caseServers ?? [])].map((s) => s?.close()));
  });

  it('accepts and refuses the pages Prometheus accepts and refuses', async () => {
    expect(CASES.filter((c) => c.prometheus2Reads).map((c) => c.name)).toEqual(['error 2: newline in label value']);
    const up = async () => {
      const res = await fetch(`${prometheus.url}/api/v1/query?query=up`);
      const body = (await res.json()) as { data: { result: { metric: { instance: string }; value: [number, string] }[] } };
      return new Map(body.data.result.map((r) => [r.metric.instance, r.value[1]]));
    };
    await waitFor('Prometheus scraped every case', async () => (await up()).size === caseServers.length + 1);
    const byInstance = await up();
    const verdicts = CASES.map((c, i) => [c.name, byInstance.get(`127.0.0.1:${caseServers[i]!.port}`) === '1' ? 'read' : 'refused']);
    // Ours, but for the deviations the fixture names: Prometheus 3 syntax, a value across lines.
    const prometheus2 = (c: (typeof CASES)[number]) => (c.prometheus3 ? 'refused' : c.prometheus2Reads || c.expected !== 'rejected' ? 'read' : 'refused');
    expect(Object.fromEntries(verdicts)).toEqual(Object.fromEntries(CASES.map((c) => [c.name, prometheus2(c)])));
  }, 90_000);

  it(`gives Prometheus's values for ${INSTANT.length} instant expressions and ${RATES.length} rates`, async () => {
    const source = createExpositionSource(
      { type: 'exposition', name: 'page', url: `${page.url}/metrics`, headers: {}, timeoutMs: 10_000 },
      { expressions: [...INSTANT, ...RATES], scrapeFile: join(mkdtempSync(join(tmpdir(), 'rollout-agree-')), 'scrape.json'), clock: systemClock },
    );
    // Prometheus holds a full window of scrapes once count_over_time sees ten of them.
    await waitFor('Prometheus scraped a full window', async () => ((await promValue(prometheus, `count_over_time(r{k="a"}[${WINDOW_MS / 1000}s])`)) ?? 0) >= 8);
    const ours: Record<string, number | null | string> = {};
    for (const query of INSTANT) ours[query] = await ourValue(source, query);
    await source.finishPoll?.();
    const theirs: Record<string, number | null> = {};
    for (const query of INSTANT) theirs[query] = await promValue(prometheus, query);
    expect(ours).toEqual(theirs);
    expect(Object.values(theirs).filter((v) => v !== null).length).toBeGreaterThanOrEqual(20);

    // Our window: this poll and the next, a window apart.
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    for (const query of RATES) {
      const [mine, prom] = [await ourValue(source, query), await promValue(prometheus, query)];
      expect(typeof mine, `${query}: ${mine}`).toBe('number');
      expect(Math.abs((mine as number) - prom!) / prom!, `${query}: ours ${mine}, Prometheus ${prom}`).toBeLessThan(0.01);
    }
  }, 90_000);
});
