/**
 * Benchmark 4, the exposition source's engine: parse a generated 100k-series, ~11 MB /metrics
 * page and evaluate the expressions of rollout-plans/exposition-scrape.yaml over it.
 *
 * Throughput: our parser is fed the page in 64 KiB buffers (as the HTTP stream delivers it) and
 * keeps what the plan reads, then every expression of the plan is evaluated against the page a
 * tick before (kept as the source keeps it) and the page is kept for the next poll; every line
 * is checked, read or not, as a Prometheus scrape checks it. The npm package parse-prometheus-text-format parses the same page, given as one
 * string (its only input), in the same process, the runs interleaved. Its time does not include
 * any evaluation, so the comparison flatters it. A second row keeps every series (no plan), to
 * show what not keeping unread lines is worth; it has no target.
 *
 * Peak memory: measured in fresh child processes (mode `memory`), so nothing the benchmark itself
 * allocated counts. Each child streams the page before and the current page from files in 64 KiB
 * reads through the parser, as the source does over HTTP, keeps the page before as the source
 * keeps an earlier scrape (series keys and values) and evaluates every expression. After every
 * chunk it samples process.memoryUsage(); its figure is the peak of heapUsed + external (which
 * holds the Buffers) over the samples minus the same sum at the start (after a forced GC). The
 * benchmark's figure is the median over MEMORY_RUNS children: one child's peak depends on when its
 * collections ran (a single child gave 1.73× to 2.07× of the page). That is memory JavaScript
 * holds, garbage not yet collected included, so it errs high. The RSS growth is shown beside it,
 * using the kernel's high-water mark (getrusage maxRSS, which also sees peaks between samples)
 * minus the RSS at the start; RSS also carries V8's reserved but empty heap pages.
 */
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { parsePlan } from '../src/plan/load-plan.js';
import { evaluateExpression } from '../src/sources/exposition/evaluate.js';
import { ScrapeHistory, type Scrape } from '../src/sources/exposition/history.js';
import { ExpositionParser } from '../src/sources/exposition/parse.js';
import { metricNamesOf, parseExpression, rangeFunctionsOf, type Expr } from '../src/sources/exposition/promql.js';
import { atLeast, atMost, formatBytes, formatMs, median, placeholderEnv, progress, REPO, report, RUNS, spawnSelf } from './lib.js';
import { metricsPage } from './metrics-page.js';

const SERIES = 100_000;
const CHUNK = 64 * 1024;
const PLAN = join(REPO, 'rollout-plans/exposition-scrape.yaml');
const SCRAPE_INTERVAL_MS = 30_000;
/** Children of the memory measurement: the minimum for a median (README, "How the figures are made"). */
const MEMORY_RUNS = 10;

/** The plan's expressions (metrics, baselines, the traffic counter) and the metric names they read. */
async function planExpressions(): Promise<{ exprs: Expr[]; wanted: Set<string> }> {
  const text = readFileSync(PLAN, 'utf8');
  const plan = await parsePlan(text, PLAN, { env: placeholderEnv(text) });
  const texts = [...plan.metrics.flatMap((m) => [m.query, m.baseline]), plan.analysis.requests?.query];
  const exprs = texts.filter((t): t is string => t !== undefined).map(parseExpression);
  return { exprs, wanted: new Set(exprs.flatMap(metricNamesOf)) };
}

/** Parses a page delivered as `chunks`; throws if a line did not parse, so a broken page cannot pass as fast. */
function scrapeOf(chunks: Iterable<Buffer>, wanted: Set<string> | undefined, timestamp: number): Scrape {
  const parser = new ExpositionParser(wanted);
  for (const chunk of chunks) parser.push(chunk);
  const page = parser.end();
  if (page.firstProblem) throw new Error(`generated page line ${page.firstProblem.line}: ${page.firstProblem.message}`);
  return { timestamp, series: page.series };
}

function* chunksOf(page: Buffer): Generator<Buffer> {
  for (let at = 0; at < page.length; at += CHUNK) yield page.subarray(at, at + CHUNK);
}

/** The history a poll after `previous` compares with: that scrape, kept as the source keeps it. */
function historyAfter(exprs: Expr[], previous: Scrape): ScrapeHistory {
  const functions = exprs.flatMap(rangeFunctionsOf);
  const start = ScrapeHistory.start();
  return start.add(start.keep(previous, functions), functions);
}

/** A poll's work after the scrape: its expressions, and the scrape kept for the next poll. */
function evaluateAll(exprs: Expr[], current: Scrape, history: ScrapeHistory): number[] {
  const values = exprs.map((expr) => evaluateExpression(expr, current, history));
  const functions = exprs.flatMap(rangeFunctionsOf);
  history.add(history.keep(current, functions), functions);
  return values;
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

async function main(): Promise<void> {
  const { exprs, wanted } = await planExpressions();
  const before = Buffer.from(metricsPage(SERIES, 0));
  const page = Buffer.from(metricsPage(SERIES, 1));
  const pageText = page.toString('utf8');
  const previous = historyAfter(exprs, scrapeOf(chunksOf(before), wanted, 0));
  const previousAll = historyAfter(exprs, scrapeOf(chunksOf(before), undefined, 0));
  progress(`page: ${formatBytes(page.length)}, ${exprs.length} expressions over ${[...wanted].join(', ')}`);

  const values = evaluateAll(exprs, scrapeOf(chunksOf(page), wanted, SCRAPE_INTERVAL_MS), previous);
  if (!values.every(Number.isFinite)) throw new Error(`an expression has no value: ${values.join(', ')}`);
  const families = parsePrometheusTextFormat(pageText).length;

  const contenders = [
    () => evaluateAll(exprs, scrapeOf(chunksOf(page), wanted, SCRAPE_INTERVAL_MS), previous),
    () => evaluateAll(exprs, scrapeOf(chunksOf(page), undefined, SCRAPE_INTERVAL_MS), previousAll),
    () => parsePrometheusTextFormat(pageText),
  ];
  const times = contenders.map(() => [] as number[]);
  for (let round = 0; round < RUNS; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const index = (k + round) % contenders.length;
      gc(); // each run starts clean instead of paying for the garbage of the one before
      const started = performance.now();
      contenders[index]!();
      times[index]!.push(performance.now() - started);
    }
  }
  const [ours, oursAll, npm] = times.map(median) as [number, number, number];
  const mbps = (ms: number) => `${((page.length / 1e6) * (1000 / ms)).toFixed(0)} MB/s`;
  const npmLabel = `${formatMs(npm)}, ${mbps(npm)} (parse-prometheus-text-format, ${families} families)`;
  report({ benchmark: 'exposition: parse + evaluate plan, 100k series', measured: `${formatMs(ours)}, ${mbps(ours)}`, reference: npmLabel, ratio: npm / ours, target: atLeast(10, npm / ours) });
  report({ benchmark: 'exposition: parse all series + evaluate (info)', measured: `${formatMs(oursAll)}, ${mbps(oursAll)}`, reference: npmLabel, ratio: npm / oursAll });

  const dir = mkdtempSync(join(tmpdir(), 'rollout-bench-page-'));
  try {
    writeFileSync(join(dir, 'before.prom'), before);
    writeFileSync(join(dir, 'page.prom'), page);
    // One child's peak depends on when its collections ran, so the figure is the median of several.
    const peaks: { heapBytes: number; rssBytes: number; liveBytes: number }[] = [];
    for (let run = 0; run < MEMORY_RUNS; run++) {
      const { firstLine, exited } = await spawnSelf('memory', [join(dir, 'before.prom'), join(dir, 'page.prom')], ['--expose-gc']);
      await exited;
      peaks.push(JSON.parse(firstLine) as (typeof peaks)[number]);
    }
    const peak = { heapBytes: median(peaks.map((p) => p.heapBytes)), rssBytes: median(peaks.map((p) => p.rssBytes)), liveBytes: median(peaks.map((p) => p.liveBytes)) };
    progress(`memory: peaks of the ${MEMORY_RUNS} children ${peaks.map((p) => formatBytes(p.heapBytes)).join(', ')}`);
    progress(`memory: peak ${formatBytes(peak.heapBytes)} heap+buffers, of which ${formatBytes(peak.liveBytes)} still held after a GC (the scrape and the kept one)`);
    report({
      benchmark: 'exposition: peak memory, parse + evaluate',
      measured: `${formatBytes(peak.heapBytes)} heap+buffers (RSS +${formatBytes(peak.rssBytes)})`,
      reference: `${formatBytes(page.length)} (page size)`,
      ratio: peak.heapBytes / page.length,
      target: atMost(2, peak.heapBytes / page.length),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The fresh child of the memory measurement; prints { heapBytes, rssBytes, liveBytes } (see the module comment). */
async function memoryChild(beforeFile: string, pageFile: string): Promise<void> {
  const { exprs, wanted } = await planExpressions();
  // external includes arrayBuffers (every Buffer); adding both would count buffers twice.
  const held = (u: NodeJS.MemoryUsage) => u.heapUsed + u.external;
  gc();
  const start = process.memoryUsage();
  let peak = held(start);
  let peakRss = start.rss;
  const sample = () => {
    const now = process.memoryUsage();
    peak = Math.max(peak, held(now));
    peakRss = Math.max(peakRss, now.rss);
  };
  const stream = async (file: string, timestamp: number): Promise<Scrape> => {
    const parser = new ExpositionParser(wanted);
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) {
      parser.push(chunk as Buffer);
      sample();
    }
    return { timestamp, series: parser.end().series };
  };
  const previous = historyAfter(exprs, await stream(beforeFile, 0));
  const current = await stream(pageFile, SCRAPE_INTERVAL_MS);
  const values = evaluateAll(exprs, current, previous);
  sample();
  if (!values.every(Number.isFinite)) throw new Error('an expression has no value');
  const maxRss = process.resourceUsage().maxRSS * 1024;
  gc(); // what stays: the scrape and the kept one, for the breakdown in the progress line
  const live = held(process.memoryUsage()) - held(start);
  // Both are read below, after the GC, so they were alive during it.
  const names = current.series.size + previous.scrapes.length;
  process.stdout.write(`${JSON.stringify({ heapBytes: peak - held(start), rssBytes: Math.max(peakRss, maxRss) - start.rss, liveBytes: live, names })}\n`);
}

if (process.argv[2] === 'memory') await memoryChild(process.argv[3]!, process.argv[4]!);
else await main();
