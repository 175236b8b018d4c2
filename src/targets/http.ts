/**
 * The `http` target: any flag API reachable with one JSON request to set the percentage and,
 * optionally, one GET to read it back.
 */
import { TargetError } from '../errors.js';
import { describeUrl } from '../net/http.js';
import { processSecrets } from '../plan/secrets.js';
import { readJsonPath } from '../sources/json-path.js';
import { attemptAll } from './attempt-all.js';
import { checkReadBack, parsePercent } from './percent.js';
import { isSuccess, parseJsonBody, sendWithRetries, statusError, type RetryOptions } from '../net/retry.js';
import type { Target } from './target.js';
import type { HttpHeaders, TargetConfig } from '../plan/types.js';

/** One request to the flag API. */
export interface HttpCall {
  method: string;
  url: string;
  headers: HttpHeaders;
  /** JSON body; the string "{{percent}}" anywhere in it becomes the percentage as a number. */
  body?: unknown;
}

/** An `http` target. */
export interface HttpTargetConfig extends TargetConfig {
  type: 'http';
  set: HttpCall;
  get?: { url: string; headers: HttpHeaders; path: string };
  emergency: HttpCall[];
  timeoutMs: number;
  retries: number;
}

/** Test seams: the backoff's sleep and jitter. */
export type HttpTargetOptions = Pick<RetryOptions, 'sleep' | 'random'>;

const PLACEHOLDER = '{{percent}}';

/**
 * The body template with the percentage filled in: a string that is exactly "{{percent}}"
 * becomes the number itself (so `{ "percentage": "{{percent}}" }` sends `25`, not `"25"`); inside
 * a longer string it is replaced as text. Keys are left alone.
 */
export function fillTemplate(value: unknown, percent: number): unknown {
  if (typeof value === 'string') return value === PLACEHOLDER ? percent : value.split(PLACEHOLDER).join(String(percent));
  if (Array.isArray(value)) return value.map((item) => fillTemplate(item, percent));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillTemplate(v, percent)]));
  }
  return value;
}

function hasHeader(headers: HttpHeaders, name: string): boolean {
  return Object.keys(headers).some((h) => h.toLowerCase() === name);
}

function hintForStatus(status: number): string | undefined {
  if (status === 401 || status === 403) return 'check the credentials in the target headers';
  if (status === 404) return 'check the URL in the plan';
  return undefined;
}

/** A target that sets the percentage with one HTTP request and reads it back with another. */
export function createHttpTarget(config: HttpTargetConfig, options: HttpTargetOptions = {}): Target {
  const retry = (signal?: AbortSignal): RetryOptions => ({ ...options, retries: config.retries, signal });

  /** Sends one configured call; a non-2xx answer is a TargetError naming it. */
  async function send(call: HttpCall, percent: number, signal?: AbortSignal): Promise<void> {
    const headers = { ...call.headers };
    let body: string | undefined;
    if (call.body !== undefined) {
      body = JSON.stringify(fillTemplate(call.body, percent));
      if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json';
    }
    const res = await sendWithRetries(
      { url: call.url, method: call.method, headers, body, timeoutMs: config.timeoutMs },
      retry(signal),
    );
    if (!isSuccess(res)) throw statusError(call.method, call.url, res, hintForStatus(res.status));
  }

  async function read(signal?: AbortSignal): Promise<number | undefined> {
    const get = config.get;
    if (!get) return undefined;
    const headers = hasHeader(get.headers, 'accept') ? get.headers : { ...get.headers, accept: 'application/json' };
    const res = await sendWithRetries({ url: get.url, method: 'GET', headers, timeoutMs: config.timeoutMs }, retry(signal));
    if (!isSuccess(res)) throw statusError('GET', get.url, res, hintForStatus(res.status));
    const found = readJsonPath(parseJsonBody('GET', get.url, res), get.path);
    const where = `GET ${describeUrl(get.url)}`;
    if (!found.ok) throw new TargetError(processSecrets.redact(`${where}: ${found.reason}`), 'check `target.get.path` in the plan');
    const percent = parsePercent(found.value);
    if (percent === undefined) {
      const shown = JSON.stringify(found.value)?.slice(0, 100) ?? String(found.value);
      throw new TargetError(processSecrets.redact(`${where}: ${get.path} is ${shown}, not a percentage`));
    }
    return percent;
  }

  return {
    description: processSecrets.redact(`http ${config.set.method} ${describeUrl(config.set.url)}`),
    read,
    async apply(percent, signal) {
      await send(config.set, percent, signal);
      if (config.get) checkReadBack(percent, await read(signal), `GET ${describeUrl(config.get.url)}`);
    },
    // The emergency runs after the percentage went to 0, so "{{percent}}" in its bodies is 0.
    emergency: (signal) =>
      attemptAll(
        config.emergency.map((call) => ({
          name: `${call.method} ${describeUrl(call.url)}`,
          run: () => send(call, 0, signal),
        })),
      ),
  };
}
