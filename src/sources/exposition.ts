/**
 * The `exposition` source: scrapes a Prometheus text-format /metrics page and evaluates the
 * PromQL subset of SPEC §2.2 over it. A poll scrapes once, however many metrics it reads; the
 * page streams through the parser, which keeps only the series the plan's expressions name.
 *
 * increase() and rate() compare with earlier scrapes (exposition/history.ts). Those are kept in
 * memory and in `scrapeFile`, so two `rollout check` processes a minute apart can compute a rate;
 * the file is saved as soon as a poll's scrape is in, before its readings are given, and holds
 * series as keys, never label text (exposition/identity.ts). docs/exposition.md has the rules.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '../clock.js';
import { describeUrl, HttpFailure, httpStream, type HttpHead } from '../net/http.js';
import { processSecrets } from '../plan/secrets.js';
import { stderr } from '../stdio.js';
import { prepareSourceRequest } from './http-json.js';
import type { HttpSourceConfig } from './kinds/http-source.js';
import { evaluateExpression } from './exposition/evaluate.js';
import { decodeHistory, encodeHistory, ScrapeHistory, type HistoryOwner, type Scrape } from './exposition/history.js';
import { ExpositionParser } from './exposition/parse.js';
import { ExpressionSyntaxError, metricNamesOf, parseExpression, rangeFunctionsOf, type Expr, type RangeFunction } from './exposition/promql.js';
import { NoDataError, type MetricSource } from './source.js';

/** What the exposition source needs beyond its plan entry. */
export interface ExpositionSourceOptions {
  /** Every expression that will be measured on this source: their metric names are what a scrape keeps. */
  expressions: string[];
  /** Where the earlier scrapes are kept between processes (JSON, replaced whole after each scrape). */
  scrapeFile: string;
  clock: Clock;
  /** Aborts a scrape in flight (e.g. Ctrl-C). */
  signal?: AbortSignal;
  /** Largest page accepted; the page is streamed, so this bounds the time spent, not memory. */
  maxBytes?: number;
  /** Where a warning goes (a scrape that could not be saved); default stderr, secrets redacted. */
  warn?: (message: string) => void;
}

/** Pages are streamed, never held, so the cap can sit well above the JSON sources' 10 MiB. */
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The most series a page may have of the metrics the plan reads: about 8 MB held while a poll
 * is evaluated, and 1.6 MB (2.1 MB saved) for each earlier scrape kept for increase() and rate().
 */
export const MAX_SERIES = 100_000;

/** Asks for the text format; a server that speaks OpenMetrics too would otherwise pick it. */
const ACCEPT = 'text/plain;version=0.0.4;q=1,*/*;q=0.1';

/** Makes a source over one /metrics page; see the module comment. */
export function createExpositionSource(config: HttpSourceConfig, options: ExpositionSourceOptions): MetricSource {
  return new ExpositionSource(config, options);
}

/** One poll's scrape, and the history its increase() and rate() compare with. */
interface Poll {
  scrape: Scrape;
  history: ScrapeHistory;
}

class ExpositionSource implements MetricSource {
  private readonly where: string;
  private readonly parsed = new Map<string, Expr>();
  private readonly wanted = new Set<string>();
  /** The increase() and rate() calls of every expression: what the kept scrapes are for. */
  private readonly functions: RangeFunction[] = [];
  private readonly owner: HistoryOwner;
  /** This poll's scrape, shared by every metric read in it. */
  private poll: Promise<Poll> | undefined;
  /** The earlier scrapes: read from `scrapeFile` once, then this process's. */
  private history: Promise<ScrapeHistory> | undefined;
  private lastWarning: string | undefined;

  constructor(
    private readonly config: HttpSourceConfig,
    private readonly options: ExpositionSourceOptions,
  ) {
    this.where = describeUrl(config.url);
    for (const text of options.expressions) {
      try {
        const expr = this.expression(text);
        for (const name of metricNamesOf(expr)) this.wanted.add(name);
        this.functions.push(...rangeFunctionsOf(expr));
      } catch {
        // An invalid expression is reported when it is measured.
      }
    }
    const selectors = [...new Set(this.functions.map((f) => f.selector.text))].sort().join('\n');
    // The address without its query or credentials: no secret goes into the file in any form.
    this.owner = { source: fingerprint(this.where), selectors: fingerprint(selectors) };
  }

  /**
   * The expression's value from this poll's scrape and the kept ones. The per-metric `signal` is
   * not needed: the scrape is shared by the poll's metrics, and bounded by the source's timeout
   * and `options.signal`.
   */
  async measure(query: string): Promise<number> {
    const expr = this.expression(query);
    const undeclared = metricNamesOf(expr).find((name) => !this.wanted.has(name));
    if (undeclared !== undefined) {
      throw new NoDataError(`${undeclared} is not kept from ${this.where}: the expression was not given when the source was made`);
    }
    this.poll ??= this.takePoll();
    const { scrape, history } = await this.poll;
    return evaluateExpression(expr, scrape, history);
  }

  /** Ends the poll: the next measure scrapes again. Its scrape was saved when it came in. */
  async finishPoll(): Promise<void> {
    const pending = this.poll;
    this.poll = undefined;
    await pending?.catch(() => undefined);
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

  /**
   * Scrapes, and saves the scrape for later polls and processes before any reading is given: a
   * scrape that cannot be saved is a warning, and the poll's readings are no data.
   */
  private async takePoll(): Promise<Poll> {
    if (this.functions.length === 0) return { scrape: await this.scrapeOnce(), history: ScrapeHistory.start() };
    const loading = (this.history ??= this.readHistory());
    const history = await loading.catch((err: unknown) => {
      if (this.history === loading) this.history = undefined; // read again next poll
      throw err;
    });
    const scrape = await this.scrapeOnce();
    const next = history.add(history.keep(scrape, this.functions), this.functions);
    this.history = Promise.resolve(next);
    await this.save(next);
    return { scrape, history };
  }

  private async scrapeOnce(): Promise<Scrape> {
    const timestamp = this.options.clock.now();
    const parser = new ExpositionParser(this.wanted, MAX_SERIES);
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
      throw new NoDataError(`not a page Prometheus would accept: ${this.where} line ${line}: ${message}${others}`);
    }
    if (page.overflow) {
      throw new NoDataError(
        `${this.where} has more than ${MAX_SERIES} series of ${[...this.wanted].join(', ')}, more than the exposition source keeps: read them through Prometheus`,
      );
    }
    return { timestamp, series: page.series };
  }

  private async readHistory(): Promise<ScrapeHistory> {
    let text: string;
    try {
      text = await readFile(this.options.scrapeFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ScrapeHistory.start();
      return this.warned(`cannot read the earlier scrapes ${this.options.scrapeFile}: ${(err as Error).message}`);
    }
    return decodeHistory(text, this.owner) ?? ScrapeHistory.start();
  }

  /** Saves the history (temp file and rename); a failure is a warning and the poll's no data. */
  private async save(history: ScrapeHistory): Promise<void> {
    const file = this.options.scrapeFile;
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(temp, encodeHistory(history, this.owner));
      await rename(temp, file);
      this.lastWarning = undefined;
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      this.warned(`cannot save the scrape of ${this.where} to ${file}: ${(err as Error).message}`);
    }
  }

  /**
   * Warns that the scrape file cannot be used (once, not every poll while it lasts) and throws the
   * poll's no data: its rates could not be compared with, or given to, a later poll.
   */
  private warned(reason: string): never {
    if (reason !== this.lastWarning) (this.options.warn ?? warnOnStderr)(reason);
    this.lastWarning = reason;
    throw new NoDataError(`${reason} (increase() and rate() need it)`);
  }
}

function warnOnStderr(message: string): void {
  stderr.write(processSecrets.redact(`warning: ${message}\n`));
}

/** A short digest that identifies `text` without holding it. */
function fingerprint(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
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
