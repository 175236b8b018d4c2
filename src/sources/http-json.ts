/**
 * The HTTP half of the HTTP-based metric sources: one GET through the shared client, with every
 * way it can fail turned into a `NoDataError` whose reason names the problem and the URL (without
 * credentials or query string) and never echoes a credential the request carried.
 */
import { describeUrl, HttpFailure, httpRequest, type HttpResponse } from '../net/http.js';
import type { HttpHeaders } from '../plan/types.js';
import { Secrets } from '../plan/secrets.js';
import { NoDataError } from './source.js';

/** One GET of a source: its URL (credentials allowed as user:pass@), headers and deadline. */
export interface SourceRequest {
  url: string;
  headers: HttpHeaders;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Source-specific reading of an error response, e.g. Prometheus's `errorType: error`. */
export interface FetchOptions {
  /** Given the parsed JSON body of a non-2xx answer, returns its explanation if it has one. */
  describeErrorBody?(doc: unknown): string | undefined;
}

const EXCERPT_CHARS = 160;
const HTML_HINT = '(a login page or proxy error?)';

/** GETs the URL and parses the 2xx body as JSON; anything else throws `NoDataError`. */
export function fetchJson(req: SourceRequest, options: FetchOptions = {}): Promise<unknown> {
  return fetchPreparedJson(prepareSourceRequest(req), options);
}

/** `fetchJson` of a request prepared beforehand, e.g. once per source for all its queries. */
export async function fetchPreparedJson(prepared: Prepared, options: FetchOptions = {}): Promise<unknown> {
  const response = await send(prepared, options);
  if (isHtml(response)) throw new NoDataError(`HTML page instead of JSON from ${prepared.where} ${HTML_HINT}`);
  try {
    return JSON.parse(response.body) as unknown;
  } catch {
    throw new NoDataError(`not JSON from ${prepared.where}: ${excerpt(response.body, prepared.secrets)}`);
  }
}

/** A source request ready to send: credentials moved from the URL into a header, and remembered. */
export interface Prepared {
  url: string;
  headers: HttpHeaders;
  where: string;
  secrets: Secrets;
  timeoutMs: number;
  signal?: AbortSignal;
}

// undici silently drops user:pass@ from a URL, so credentials there become a Basic header (an
// explicit Authorization header in the plan wins). Everything the request carries as a credential
// is remembered, so no reason can repeat it.
export function prepareSourceRequest(req: SourceRequest): Prepared {
  const secrets = new Secrets();
  for (const value of Object.values(req.headers)) {
    secrets.add(value);
    // "Bearer <token>": the token alone may come back, e.g. in "invalid token <token>".
    secrets.add(value.slice(value.indexOf(' ') + 1));
  }
  const url = new URL(req.url);
  const headers = { ...req.headers };
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    secrets.add(password);
    url.username = '';
    url.password = '';
    const basic = Buffer.from(`${user}:${password}`).toString('base64');
    secrets.add(basic);
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) headers.Authorization = `Basic ${basic}`;
  }
  const prepared: Prepared = { url: url.toString(), headers, where: describeUrl(req.url), secrets, timeoutMs: req.timeoutMs };
  if (req.signal) prepared.signal = req.signal;
  return prepared;
}

async function send(req: Prepared, options: FetchOptions): Promise<HttpResponse> {
  let response: HttpResponse;
  try {
    response = await httpRequest({ url: req.url, headers: req.headers, timeoutMs: req.timeoutMs, ...(req.signal && { signal: req.signal }) });
  } catch (err) {
    if (!(err instanceof HttpFailure)) throw err;
    // The client's own message already names the URL without secrets; only the timeout is
    // reworded so it states the configured limit.
    throw new NoDataError(err.kind === 'timeout' ? `timeout after ${req.timeoutMs} ms: GET ${req.where}` : err.message);
  }
  if (response.status < 200 || response.status > 299) {
    throw new NoDataError(`HTTP ${response.status} from ${req.where}${statusDetail(response, options, req.secrets)}`);
  }
  return response;
}

// What an operator needs to tell a proxy's error page from the API's own error, in one short line.
// (Redirects are followed or refused by the HTTP client, which never names a Location.)
function statusDetail(response: HttpResponse, options: FetchOptions, secrets: Secrets): string {
  if (isHtml(response)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(response.body)?.[1]?.trim();
    return `: HTML page${title ? ` "${excerpt(title, secrets)}"` : ''} ${HTML_HINT}`;
  }
  const explained = options.describeErrorBody?.(parseOrUndefined(response.body));
  const text = explained ?? response.body;
  return text.trim() === '' ? '' : `: ${excerpt(text, secrets)}`;
}

function parseOrUndefined(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

function isHtml(response: HttpResponse): boolean {
  return /text\/html/i.test(header(response, 'content-type') ?? '') || /^\s*</.test(response.body);
}

function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function excerpt(text: string, secrets: Secrets): string {
  const flat = secrets.redact(text).replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}
