/**
 * The one HTTP client of the tool: kept-alive connections, a deadline per request that covers the
 * whole exchange (slow-drip bodies included), and a cap on the body size so a 100 MB answer is cut
 * off, not read into memory. Failures are `HttpFailure`s whose message names what went wrong.
 */
import { setFlagsFromString } from 'node:v8';
import type { Dispatcher } from 'undici';
import Agent from 'undici/lib/dispatcher/agent.js';
import dispatchRequest from 'undici/lib/api/api-request.js';
import { onShutdown } from '../shutdown.js';

// undici parses HTTP with llhttp compiled to WebAssembly. By default V8 also compiles that module
// with TurboFan on background threads, and a process exiting soon after its first request waits
// for that compile: 80-190 ms added to every `rollout rollback --emergency` or `status` on the
// benchmark machine (bench/README.md). Liftoff, V8's baseline wasm compiler, is plenty for
// parsing response heads. Must run before undici compiles the module, i.e. before the first request.
setFlagsFromString('--liftoff-only');

/** Why a request produced no usable response. */
export type HttpFailureKind = 'connect' | 'timeout' | 'too-large' | 'aborted' | 'network';

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

let sharedAgent: Agent | undefined;

/** The process-wide kept-alive connection pool. */
export function sharedDispatcher(): Dispatcher {
  if (!sharedAgent) {
    sharedAgent = new Agent({ keepAliveTimeout: 10_000, connections: 128, pipelining: 1 });
    onShutdown(closeSharedDispatcher);
  }
  return sharedAgent;
}

/** Closes the shared pool so the process can exit promptly. */
export async function closeSharedDispatcher(): Promise<void> {
  const agent = sharedAgent;
  sharedAgent = undefined;
  await agent?.close();
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

/**
 * Sends one request and hands the body to the sink `onHead` chooses for the response (undefined
 * discards it), within the same deadline and size cap as `httpRequest`: a large body is processed
 * as it arrives instead of being held whole.
 */
export async function httpStream(req: HttpRequest, onHead: (head: HttpHead) => BodySink | undefined): Promise<HttpHead> {
  const where = `${req.method ?? 'GET'} ${describeUrl(req.url)}`;
  const maxBytes = req.maxBytes ?? DEFAULT_MAX_BYTES;
  const deadline = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([deadline, req.signal]) : deadline;
  try {
    const url = new URL(req.url);
    const res = await dispatchRequest.call(req.dispatcher ?? sharedDispatcher(), {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: req.headers,
      body: req.body,
      signal,
    });
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      discard(res.body);
      throw new HttpFailure('too-large', `${where}: response of ${declared} bytes is over the ${maxBytes}-byte cap`);
    }
    const head: HttpHead = { status: res.statusCode, headers: res.headers };
    const sink = onHead(head);
    if (!sink) {
      discard(res.body);
      return head;
    }
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        res.body.destroy();
        throw new HttpFailure('too-large', `${where}: response is over the ${maxBytes}-byte cap`);
      }
      sink(chunk as Buffer);
    }
    return head;
  } catch (err) {
    throw toHttpFailure(err, where, req, deadline);
  }
}

/**
 * Lets go of a body that will not be read: a short one is drained so its connection can serve
 * again, a long one is cut off. (A bare `destroy()` makes undici emit an error nobody listens to.)
 */
function discard(body: Dispatcher.ResponseData['body']): void {
  void body.dump().catch(() => undefined);
}

function toHttpFailure(err: unknown, where: string, req: HttpRequest, deadline: AbortSignal): HttpFailure {
  if (err instanceof HttpFailure) return err;
  if (deadline.aborted) return new HttpFailure('timeout', `${where}: no complete answer within ${req.timeoutMs} ms`);
  if (req.signal?.aborted) return new HttpFailure('aborted', `${where}: aborted`);
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
