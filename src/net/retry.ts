/**
 * Retries for the HTTP-speaking targets (http, unleash): exponential backoff with full jitter on
 * connection errors, timeouts and 5xx answers, never on 4xx (the request itself is wrong, and
 * repeating it only repeats the mistake). Messages name method and URL without query string or
 * credentials, and pass through secret redaction.
 */
import { systemClock } from '../clock.js';
import { TargetError } from '../errors.js';
import { HttpFailure, describeUrl, httpRequest, type HttpRequest, type HttpResponse } from './http.js';
import { processSecrets } from '../plan/secrets.js';

/** How a target retries; `sleep` and `random` are injectable so tests neither wait nor guess. */
export interface RetryOptions {
  /** Attempts after the first. */
  retries: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1), for the jitter. */
  random?: () => number;
  signal?: AbortSignal;
  /** Told about a wait once it has lasted a second, then every second (what, attempt n/m, time left); undefined once it is over. */
  onWait?: (wait: NetworkWait | undefined) => void;
}

/** A network wait in progress, for a progress line. */
export interface NetworkWait {
  /** "PUT https://flags.example.com/…" (no query string, no credentials). */
  what: string;
  /** `answer`: waiting for the reply to attempt n; `backoff`: pausing before attempt n. */
  phase: 'answer' | 'backoff';
  attempt: number;
  attempts: number;
  leftMs: number;
}

const WAIT_REPORT_MS = 1_000;

/** Calls `onWait` every second while `work` runs past its first second; `ms` is the wait's bound. */
async function reported<T>(onWait: RetryOptions['onWait'], wait: Omit<NetworkWait, 'leftMs'>, ms: number, work: () => Promise<T>): Promise<T> {
  if (!onWait) return work();
  const started = Date.now();
  let told = false;
  const timer = setInterval(() => {
    told = true;
    onWait({ ...wait, leftMs: Math.max(0, ms - (Date.now() - started)) });
  }, WAIT_REPORT_MS);
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
    if (told) onWait(undefined);
  }
}

/** The delay before the first retry is at most this; it doubles per retry up to the cap. */
const BACKOFF_BASE_MS = 250;
/** No single wait exceeds this, however many retries are configured. */
export const BACKOFF_CAP_MS = 5_000;

/**
 * "Full jitter" backoff: a uniform draw in [0, min(cap, base·2^retry)). Spreading retries over the
 * whole window keeps several rollouts that hit the same failing API from retrying in lockstep.
 */
export function backoffDelay(retry: number, random: () => number): number {
  return Math.floor(random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry));
}

/** The failures worth repeating: the request may never have arrived, or the answer was lost. */
const TRANSIENT_FAILURES: ReadonlySet<HttpFailure['kind']> = new Set(['connect', 'timeout', 'network']);

/**
 * Sends `req`, retrying transient failures and 5xx answers. Returns the last response whatever its
 * status (the caller words 4xx and 5xx itself); a request that never got an answer becomes a
 * TargetError.
 */
export async function sendWithRetries(req: HttpRequest, options: RetryOptions): Promise<HttpResponse> {
  const sleep = options.sleep ?? systemClock.sleep;
  const random = options.random ?? Math.random;
  const what = processSecrets.redact(`${req.method} ${describeUrl(req.url)}`);
  const attempts = options.retries + 1;
  for (let attempt = 1; ; attempt++) {
    let response: HttpResponse | undefined;
    let failure: unknown;
    try {
      response = await reported(options.onWait, { what, phase: 'answer', attempt, attempts }, req.timeoutMs, () => httpRequest({ ...req, signal: options.signal }));
    } catch (err) {
      failure = err;
    }
    const transient = response
      ? response.status >= 500
      : failure instanceof HttpFailure && TRANSIENT_FAILURES.has(failure.kind);
    if (transient && attempt <= options.retries && !options.signal?.aborted) {
      const delay = backoffDelay(attempt - 1, random);
      await reported(options.onWait, { what, phase: 'backoff', attempt: attempt + 1, attempts }, delay, () => sleep(delay, options.signal));
      continue;
    }
    if (response) return response;
    if (failure instanceof HttpFailure) {
      const tries = attempt > 1 ? ` (after ${attempt} attempts)` : '';
      throw new TargetError(processSecrets.redact(failure.message) + tries, hintFor(failure));
    }
    throw failure;
  }
}

function hintFor(failure: HttpFailure): string | undefined {
  if (failure.kind === 'connect') return 'check the URL and that the service is up and reachable from here';
  if (failure.kind === 'timeout') return 'the service is slow or unreachable; raise the target timeout if it is just slow';
  return undefined;
}

const EXCERPT_CHARS = 200;

/** The start of a response body for an error message, on one line, with secrets removed. */
function bodyExcerpt(body: string): string {
  // Redact before cutting: a cut through the middle of a secret would leak its first half.
  const flat = processSecrets.redact(body).replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

/** "PUT https://host/path answered 502: <body excerpt>" as a TargetError. */
export function statusError(method: string, url: string, res: HttpResponse, hint?: string): TargetError {
  const excerpt = bodyExcerpt(res.body);
  return new TargetError(
    processSecrets.redact(`${method} ${describeUrl(url)} answered ${res.status}`) + (excerpt ? `: ${excerpt}` : ''),
    hint,
  );
}

/** True for a 2xx status. */
export function isSuccess(res: HttpResponse): boolean {
  return res.status >= 200 && res.status < 300;
}

/** Parses a JSON response body, or throws a TargetError naming the call. */
export function parseJsonBody(method: string, url: string, res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    throw new TargetError(
      processSecrets.redact(`${method} ${describeUrl(url)} answered ${res.status} with a body that is not JSON`) +
        `: ${bodyExcerpt(res.body)}`,
    );
  }
}
