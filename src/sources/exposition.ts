/**
 * The `exposition` source: scrapes a Prometheus text-format /metrics page and evaluates the
 * PromQL subset of SPEC §2.2 over it. A poll scrapes once, however many metrics it reads; the
 * page streams through the parser, which keeps only the series the plan's expressions name.
 * increase/rate need the scrape before: it is kept in memory and, after each poll, in
 * `scrapeFile`, so two `rollout check` processes a minute apart can compute a rate.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '../clock.js';
import { describeUrl, HttpFailure, httpStream, type HttpHead } from '../net/http.js';
import { prepareSourceRequest } from './http-json.js';
import type { HttpSourceConfig } from './kinds/http-source.js';
import { evaluateExpression, type Scrape } from './exposition/evaluate.js';
import { ExpositionParser, Samples, type Labels, type SeriesByName } from './exposition/parse.js';
import { ExpressionSyntaxError, metricNamesOf, parseExpression, type Expr } from './exposition/promql.js';
import { NoDataError, type MetricSource } from './source.js';

/** What the exposition source needs beyond its plan entry. */
export interface ExpositionSourceOptions {
  /** Every expression that will be measured on this source: their metric names are what a scrape keeps. */
  expressions: string[];
  /** Where the previous scrape is kept between processes (JSON, replaced whole after each poll). */
  scrapeFile: string;
  clock: Clock;
  /** Aborts a scrape in flight (e.g. Ctrl-C). */
  signal?: AbortSignal;
  /** Largest page accepted; the page is streamed, so this bounds the time spent, not memory. */
  maxBytes?: number;
}

/** Pages are streamed, never held, so the cap can sit well above the JSON sources' 10 MiB. */
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** Asks for the text format; a server that speaks OpenMetrics too would otherwise pick it. */
const ACCEPT = 'text/plain;version=0.0.4;q=1,*/*;q=0.1';

/** Makes a source over one /metrics page; see the module comment. */
export function createExpositionSource(config: HttpSourceConfig, options: ExpositionSourceOptions): MetricSource {
  return new ExpositionSource(config, options);
}

class ExpositionSource implements MetricSource {
  private readonly where: string;
  private readonly parsed = new Map<string, Expr>();
  private readonly wanted = new Set<string>();
  /** This poll's scrape, shared by every metric read in it. */
  private scrape: Promise<Scrape> | undefined;
  /** The scrape before it: read from `scrapeFile` once, then the last poll's. */
  private previous: Promise<Scrape | undefined> | undefined;

  constructor(
    private readonly config: HttpSourceConfig,
    private readonly options: ExpositionSourceOptions,
  ) {
    this.where = describeUrl(config.url);
    for (const text of options.expressions) {
      try {
        for (const name of metricNamesOf(this.expression(text))) this.wanted.add(name);
      } catch {
        // An invalid expression is reported when it is measured.
      }
    }
  }

  /**
   * The expression's value from this poll's scrape and the one before. The per-metric `signal`
   * is not needed: the scrape is shared by the poll's metrics, and bounded by the source's
   * timeout and `options.signal`.
   */
  async measure(query: string): Promise<number> {
    const expr = this.expression(query);
    const undeclared = metricNamesOf(expr).find((name) => !this.wanted.has(name));
    if (undeclared !== undefined) {
      throw new NoDataError(`${undeclared} is not kept from ${this.where}: the expression was not given when the source was made`);
    }
    this.scrape ??= this.scrapeOnce();
    this.previous ??= this.readPrevious();
    const [current, previous] = await Promise.all([this.scrape, this.previous]);
    return evaluateExpression(expr, current, previous);
  }

  /** Makes this poll's scrape the previous one, here and in `scrapeFile`; a failed scrape changes nothing. */
  async finishPoll(): Promise<void> {
    const pending = this.scrape;
    this.scrape = undefined;
    const scrape = await pending?.catch(() => undefined);
    if (scrape === undefined) return;
    this.previous = Promise.resolve(scrape);
    await this.writePrevious(scrape);
  }

  private expression(text: string): Expr {
    let expr = this.parsed.get(text);
    if (expr === undefined) {
      try {
        expr = parseExpression(text);
      } catch (err) {
        if (err instanceof ExpressionSyntaxError) throw new NoDataError(`invalid expression: ${err.message}`);
        throw err;
      }
      this.parsed.set(text, expr);
    }
    return expr;
  }

  private async scrapeOnce(): Promise<Scrape> {
    const timestamp = this.options.clock.now();
    const parser = new ExpositionParser(this.wanted);
    let refusal: string | undefined;
    try {
      const prepared = prepareSourceRequest({ url: this.config.url, headers: this.config.headers, timeoutMs: this.config.timeoutMs });
      await httpStream(
        {
          url: prepared.url,
          headers: withAccept(prepared.headers),
          timeoutMs: this.config.timeoutMs,
          maxBytes: this.options.maxBytes ?? DEFAULT_MAX_BYTES,
          ...(this.options.signal && { signal: this.options.signal }),
        },
        (head) => {
          refusal = refusalOf(head);
          return refusal === undefined ? (chunk) => parser.push(chunk) : undefined;
        },
      );
    } catch (err) {
      if (!(err instanceof HttpFailure)) throw err;
      throw new NoDataError(err.kind === 'timeout' ? `timeout after ${this.config.timeoutMs} ms: GET ${this.where}` : err.message);
    }
    if (refusal !== undefined) throw new NoDataError(`${refusal} from ${this.where}`);
    const page = parser.end();
    if (page.firstProblem) {
      const { line, message } = page.firstProblem;
      const others = page.problems > 1 ? ` (and ${page.problems - 1} more bad lines)` : '';
      throw new NoDataError(`not Prometheus text format: ${this.where} line ${line}: ${message}${others}`);
    }
    return { timestamp, series: page.series };
  }

  private async readPrevious(): Promise<Scrape | undefined> {
    let text: string;
    try {
      text = await readFile(this.options.scrapeFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new NoDataError(`cannot read the previous scrape ${this.options.scrapeFile}: ${(err as Error).message}`);
    }
    // A file that is unreadable, from another URL, or without a series now needed is no
    // previous scrape: the source warms up again, and the next poll replaces the file.
    return decodeScrape(text, urlFingerprint(this.config.url), this.wanted);
  }

  private async writePrevious(scrape: Scrape): Promise<void> {
    const file = this.options.scrapeFile;
    const text = encodeScrape(scrape, urlFingerprint(this.config.url), this.wanted);
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(temp, text);
      await rename(temp, file);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw new Error(`cannot save the scrape of ${this.where} to ${file}: ${(err as Error).message}`);
    }
  }
}

function withAccept(headers: Record<string, string>): Record<string, string> {
  return Object.keys(headers).some((name) => name.toLowerCase() === 'accept') ? headers : { accept: ACCEPT, ...headers };
}

/** Why a response is not a page to parse, or undefined when it is one. */
function refusalOf(head: HttpHead): string | undefined {
  if (head.status < 200 || head.status > 299) return `HTTP ${head.status}`;
  const type = head.headers['content-type'];
  if (/text\/html/i.test(String(type ?? ''))) return 'an HTML page, not Prometheus text format (a login page or proxy error?)';
  return undefined;
}

/**
 * Identifies the URL a saved scrape came from without storing the URL, which may carry a token.
 */
function urlFingerprint(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}

/** The saved form of a scrape. Values are numbers, or "NaN", "+Inf", "-Inf", which JSON cannot hold. */
interface SavedScrape {
  version: 1;
  url: string;
  timestamp: number;
  /** The names the scrape kept: a later process needing another one cannot use this scrape. */
  names: string[];
  series: Record<string, { labels: Labels[]; values: (number | string)[] }>;
}

function encodeScrape(scrape: Scrape, url: string, names: Set<string>): string {
  const series: SavedScrape['series'] = {};
  for (const [name, samples] of scrape.series) {
    series[name] = { labels: samples.labels, values: samples.values.map(encodeValue) };
  }
  const saved: SavedScrape = { version: 1, url, timestamp: scrape.timestamp, names: [...names], series };
  return JSON.stringify(saved);
}

function decodeScrape(text: string, url: string, needed: Set<string>): Scrape | undefined {
  let saved: Partial<SavedScrape>;
  try {
    saved = JSON.parse(text) as Partial<SavedScrape>;
  } catch {
    return undefined;
  }
  if (saved?.version !== 1 || saved.url !== url || typeof saved.timestamp !== 'number') return undefined;
  if (!Array.isArray(saved.names) || [...needed].some((name) => !saved.names!.includes(name))) return undefined;
  if (typeof saved.series !== 'object' || saved.series === null) return undefined;
  const series: SeriesByName = new Map();
  for (const [name, entry] of Object.entries(saved.series)) {
    const samples = decodeSamples(entry);
    if (samples === undefined) return undefined;
    series.set(name, samples);
  }
  return { timestamp: saved.timestamp, series };
}

function decodeSamples(entry: unknown): Samples | undefined {
  const { labels, values } = (entry ?? {}) as { labels?: unknown; values?: unknown };
  if (!Array.isArray(labels) || !Array.isArray(values) || labels.length !== values.length) return undefined;
  if (!labels.every(isLabels)) return undefined;
  const numbers: number[] = [];
  for (const value of values) {
    const number = typeof value === 'number' ? value : NOT_FINITE.get(value);
    if (number === undefined) return undefined;
    numbers.push(number);
  }
  return Samples.from(labels, numbers);
}

const NOT_FINITE = new Map<unknown, number>([
  ['NaN', NaN],
  ['+Inf', Infinity],
  ['-Inf', -Infinity],
]);

function encodeValue(value: number): number | string {
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
}

function isLabels(value: unknown): value is Labels {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}
