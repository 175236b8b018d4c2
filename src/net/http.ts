/**
 * The one HTTP client of the tool: kept-alive connections, a deadline per request that covers the
 * whole exchange (slow-drip bodies included), and a cap on the body size so a 100 MB answer is cut
 * off, not read into memory. Failures are `HttpFailure`s whose message names what went wrong.
 */
import { setFlagsFromString } from 'node:v8';
import type { Dispatcher } from 'undici';
import type Agent from 'undici/lib/dispatcher/agent.js';
import { onShutdown } from '../shutdown.js';

// undici parses HTTP with llhttp compiled to WebAssembly. By default V8 also compiles that module
// with TurboFan on background threads, and a process exiting soon after its first request waits
// for that compile: 80-190 ms added to every `rollout rollback --emergency` or `status` on the
// benchmark machine (bench/README.md). Liftoff, V8's baseline wasm compiler, is plenty for
// parsing response heads. Set by the first request, once undici is loaded and before it compiles
// the module. V8 keeps a code cache for the flags it was made under: bin/rollout.js reads and makes
// its caches under `startUp` (the flag and the two it implies, back at their defaults), then sets
// `set` again, which names the implied two as well (setting the flag alone left them at their
// defaults: tier-up on again). Reading undici's cache with the flag already set made every
// command that makes a request 5-10 ms slower (bench/README.md), so it is set after.
const runtimeFlags = { set: '--liftoff-only --no-wasm-tier-up --no-wasm-dynamic-tiering', startUp: '--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering' };
function setRuntimeFlags(): void {
  setFlagsFromString(runtimeFlags.set);
  (process as unknown as Record<symbol, typeof runtimeFlags>)[Symbol.for('rollout.runtimeV8Flags')] = runtimeFlags;
}

/** Why a request produced no usable response. */
export type HttpFailureKind = 'connect' | 'timeout' | 'too-large' | 'aborted' | 'network' | 'redirect';

export class HttpFailure extends Error {
  constructor(
    readonly kind: HttpFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}

export interface HttpRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Bodies larger than this fail with kind `too-large` (default 10 MiB). */
  maxBytes?: number;
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

let sharedAgent: Promise<Agent> | undefined;

/**
 * The process-wide kept-alive connection pool. undici is loaded with it, by the first request
 * (scripts/build.mjs keeps it in dist/lib/): a command that makes none, such as the emergency
 * rollback of an env-file target, never reads it.
 */
function sharedDispatcher(): Promise<Dispatcher> {
  if (!sharedAgent) {
    sharedAgent = import('undici/lib/dispatcher/agent.js').then(({ default: Agent }) => {
      setRuntimeFlags();
      return new Agent({ keepAliveTimeout: 10_000, connections: 128, pipelining: 1 });
    });
    onShutdown(closeSharedDispatcher);
  }
  return sharedAgent;
}

/** Closes the shared pool so the process can exit promptly. */
async function closeSharedDispatcher(): Promise<void> {
  const agent = sharedAgent;
  sharedAgent = undefined;
  // A failed load made no pool to close (the request that started it reported the failure).
  await (await agent?.catch(() => undefined))?.close();
}

/** A URL fit for messages: no credentials, no query string (tokens often live there). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Sends one request and reads the whole body, within the deadline and the size cap. */
export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const chunks: Buffer[] = [];
  const head = await httpStream(req, () => (chunk) => chunks.push(chunk));
  return { ...head, body: Buffer.concat(chunks).toString('utf8') };
}

/** A response before its body: status and headers. */
export type HttpHead = Omit<HttpResponse, 'body'>;

/** Takes a response body chunk by chunk, as it arrives. */
export type BodySink = (chunk: Buffer) => void;

/** Redirects a GET follows at most (Go's HTTP client, and so Prometheus, stops after 10). */
export const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Sends one request and hands the body to the sink `onHead` chooses for the response (undefined
 * discards it), within the same deadline and size cap as `httpRequest`: a large body is processed
 * as it arrives instead of being held whole. The deadline covers the redirects followed too.
 */
export async function httpStream(req: HttpRequest, onHead: (head: HttpHead) => BodySink | undefined): Promise<HttpHead> {
  const method = req.method ?? 'GET';
  const deadline = performance.now() + req.timeoutMs;
  const follows = method === 'GET' || method === 'HEAD';
  const dispatcher = req.dispatcher ?? (await sharedDispatcher());
  let url = req.url;
  for (let redirects = 0; ; redirects++) {
    let redirect: string | undefined;
    const head = await new Promise<HttpHead>((resolve, reject) => {
      const exchange = new Exchange({ ...req, url, dispatcher }, req.url, deadline, (h) => {
        redirect = follows && REDIRECT_STATUSES.has(h.status) ? firstHeader(h, 'location') : undefined;
        // A redirect's body is drained, not handed on: the answer is at its target.
        return redirect === undefined ? onHead(h) : undefined;
      }, resolve, reject);
      exchange.send();
    });
    if (redirect === undefined) return head;
    const target = sameOriginTarget(redirect, url);
    if (!target) {
      throw new HttpFailure('redirect', `${describeRequest(method, req.url)}: answered ${head.status}, a redirect to another origin (a login page?), not followed so that the request's credentials go nowhere else`);
    }
    if (redirects === MAX_REDIRECTS) throw new HttpFailure('redirect', `${describeRequest(method, req.url)}: more than ${MAX_REDIRECTS} redirects`);
    url = target;
  }
}

function describeRequest(method: string | undefined, url: string): string {
  return `${method ?? 'GET'} ${describeUrl(url)}`;
}

/** The URL `location` points to from `base`, if it has the same origin; never printed. */
function sameOriginTarget(location: string, base: string): string | undefined {
  try {
    const target = new URL(location, base);
    return target.origin === new URL(base).origin && target.origin !== 'null' ? target.href : undefined;
  } catch {
    return undefined;
  }
}

function firstHeader(head: HttpHead, name: string): string | undefined {
  const value = head.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A discarded body up to this size is drained so its connection can serve again; a longer one is cut off. */
const DRAIN_MAX_BYTES = 128 * 1024;

/**
 * One request and its response, as the handler undici calls back. A poll sends dozens of these at
 * once, so each costs one timer and one listener on the caller's signal: no AbortSignal of its own,
 * no body stream (what undici's `request` API and `AbortSignal.timeout`/`any` would add per request).
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Why the exchange was cut short, once it was; undici may hand it a connection only afterwards. */
  private failure: Error | undefined;
  private ended = false;
  private head: HttpHead | undefined;
  /** Undefined while the body is being discarded. */
  private sink: BodySink | undefined;
  private size = 0;

  constructor(
    private readonly req: HttpRequest & { dispatcher: Dispatcher },
    /** The URL first requested, before redirects: the one messages name. */
    private readonly firstUrl: string,
    /** performance.now() by which the whole exchange must be done. */
    private readonly deadline: number,
    private readonly onHead: (head: HttpHead) => BodySink | undefined,
    private readonly resolve: (head: HttpHead) => void,
    private readonly reject: (failure: HttpFailure) => void,
  ) {}

  send(): void {
    const { req } = this;
    if (req.signal?.aborted) return this.onAbort();
    let url: URL;
    try {
      url = new URL(req.url);
    } catch (err) {
      return this.fail(err);
    }
    this.timer = setTimeout(
      () => this.fail(new HttpFailure('timeout', `${this.where()}: no complete answer within ${req.timeoutMs} ms`)),
      Math.max(0, this.deadline - performance.now()),
    );
    req.signal?.addEventListener('abort', this.onAbort);
    req.dispatcher.dispatch(
      { origin: url.origin, path: `${url.pathname}${url.search}`, method: (req.method ?? 'GET') as Dispatcher.HttpMethod, headers: req.headers, body: req.body },
      this,
    );
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.failure) controller.abort(this.failure);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: HttpHead['headers']): void {
    if (status < 200) return; // informational (e.g. 100 Continue): the real answer follows
    const { maxBytes } = this;
    const declared = Number(headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      return this.fail(new HttpFailure('too-large', `${this.where()}: response of ${declared} bytes is over the ${maxBytes}-byte cap`));
    }
    this.head = { status, headers };
    try {
      this.sink = this.onHead(this.head);
    } catch (err) {
      return this.fail(err);
    }
    if (!this.sink) this.resolve(this.head);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.ended) return;
    this.size += chunk.length;
    if (!this.sink) {
      if (this.size > DRAIN_MAX_BYTES) this.stop(new HttpFailure('too-large', `${this.where()}: discarded response is over ${DRAIN_MAX_BYTES} bytes`));
      return;
    }
    if (this.size > this.maxBytes) return this.fail(new HttpFailure('too-large', `${this.where()}: response is over the ${this.maxBytes}-byte cap`));
    try {
      this.sink(chunk);
    } catch (err) {
      this.fail(err);
    }
  }

  onResponseEnd(): void {
    if (this.ended) return;
    this.end();
    // Always set: undici ends a response only after its head.
    this.resolve(this.head!);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }

  // An arrow, so it can be removed from the caller's signal again.
  private readonly onAbort = (): void => this.fail(new HttpFailure('aborted', `${this.where()}: aborted`));

  private get maxBytes(): number {
    return this.req.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  // Only failures name the URL: parsing it again for a message is cheaper than doing so for every request.
  private where(): string {
    return describeRequest(this.req.method, this.firstUrl);
  }

  private fail(err: unknown): void {
    if (this.ended) return;
    const failure = toHttpFailure(err, this.where());
    this.stop(failure);
    // A no-op once the head was resolved for a discarded body: its drain failing concerns no one.
    this.reject(failure);
  }

  /** Ends the exchange and tears down its connection (undici then reports `reason`, ignored as ended). */
  private stop(reason: Error): void {
    this.end();
    this.failure = reason;
    this.controller?.abort(reason);
  }

  private end(): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.req.signal?.removeEventListener('abort', this.onAbort);
  }
}

function toHttpFailure(err: unknown, where: string): HttpFailure {
  if (err instanceof HttpFailure) return err;
  const code = errorCode(err);
  if (code === 'ECONNREFUSED') return new HttpFailure('connect', `${where}: connection refused`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new HttpFailure('connect', `${where}: host not found`);
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return new HttpFailure('network', `${where}: connection reset`);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT')
    return new HttpFailure('timeout', `${where}: timed out`);
  const message = err instanceof Error ? err.message : String(err);
  return new HttpFailure('network', `${where}: ${code ?? message}`);
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
