/**
 * The sandbox behind `rollout demo`: a small service on 127.0.0.1 with a feature flag API, a
 * Prometheus text-format /metrics page and a JSON summary route, fed by synthetic traffic that the
 * flag splits between a canary and a stable variant. A scenario decides how the canary behaves.
 *
 * The traffic is deterministic (fractional carries instead of coin flips, a low-discrepancy
 * sequence for latencies): a healthy canary never wanders over a limit by chance, so the demo and
 * its tests show the same thing on every run.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parseDuration } from '../plan/duration.js';

/** How the canary behaves. */
export type Scenario = 'healthy' | 'bad' | 'flaky';

/** The bad canary only misbehaves from this share on: small stages look fine, as real ones often do. */
export const BAD_FROM_PERCENT = 25;

/** Routes of the service, relative to its base URL. */
const ROUTES = {
  flag: '/api/flags/demo',
  metrics: '/metrics',
  summary: '/api/summary',
} as const;

export interface SimulatedServiceOptions {
  scenario?: Scenario;
  /** Synthetic requests per second across both variants (default 5000). */
  requestsPerSecond?: number;
  /** Traffic is generated in ticks of this length (default 100 ms). */
  tickMs?: number;
  /** In the flaky scenario, one tick of errors every this many ms (default 3 s). */
  blipEveryMs?: number;
  /**
   * How each variant answers, instead of the scenarios' (the canary's from its first stage): e.g.
   * { canary: { errorRate: 0.02 }, stable: { errorRate: 0.01 } } for a 2× regression that a
   * comparison metric should catch.
   */
  variants?: { canary: Partial<Behaviour>; stable: Partial<Behaviour> };
}

/** What the summary route reports for one variant over a window. */
export interface VariantSummary {
  requests: number;
  errors: number;
  /** errors / requests, or null without requests (a rate of nothing is not 0). */
  errorRate: number | null;
  p95Ms: number | null;
  avgMs: number | null;
}

/** The summary route's document: the canary's numbers at the top level, the stable ones beside. */
export interface ServiceSummary extends VariantSummary {
  percentage: number;
  scenario: Scenario;
  windowMs: number;
  stable: VariantSummary;
}

/** A running simulated service. */
export interface SimulatedService {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly flagUrl: string;
  readonly metricsUrl: string;
  readonly summaryUrl: string;
  /** Synthetic requests per second, across both variants. */
  readonly requestsPerSecond: number;
  readonly scenario: Scenario;
  /** The flag's current percentage. */
  readonly percentage: number;
  /** Switches the scenario and puts the flag back to 0 %, for the next run of the demo. */
  reset(scenario: Scenario): void;
  /** Flaky blips injected so far (each lasts one tick). */
  readonly blips: number;
  /** Stops the traffic and the server. */
  close(): Promise<void>;
}

type Variant = 'canary' | 'stable';
const VARIANTS: readonly Variant[] = ['canary', 'stable'];

/** Histogram bucket bounds in seconds (the +Inf bucket is implied). */
const BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** How a variant answers: its share of 500s and its median latency. */
export interface Behaviour {
  errorRate: number;
  medianMs: number;
}

const STABLE: Behaviour = { errorRate: 0.001, medianMs: 80 };
const HEALTHY_CANARY: Behaviour = { errorRate: 0.002, medianMs: 90 };
// Well past the runbooks' 5 % critical line, so two polls in a row are critical whatever the window.
const BAD_CANARY: Behaviour = { errorRate: 0.15, medianMs: 420 };
const BLIP: Behaviour = { errorRate: 1, medianMs: 90 };

/** The summary's default window; shorter than the demo's 1 s interval, so polls never share a tick. */
const DEFAULT_WINDOW_MS = 800;
/** Ticks kept for the summary route: enough for a 10 s window. */
const KEPT_MS = 10_000;

interface VariantTick {
  requests: number;
  errors: number;
  latenciesMs: number[];
}

interface Tick {
  at: number;
  canary: VariantTick;
  stable: VariantTick;
}

/** Cumulative counters, as a real service's /metrics page would show them. */
interface Counters {
  ok: number;
  errors: number;
  buckets: number[];
  sumSeconds: number;
  count: number;
}

/** Starts the service on a free port of 127.0.0.1. */
export async function startSimulatedService(options: SimulatedServiceOptions = {}): Promise<SimulatedService> {
  const tickMs = options.tickMs ?? 100;
  // Enough canary traffic at 10 % that one error more or less in a short poll never reads as a 1 % warning.
  const requestsPerSecond = options.requestsPerSecond ?? 5000;
  const perTick = (requestsPerSecond * tickMs) / 1000;
  const blipEveryTicks = Math.max(2, Math.round((options.blipEveryMs ?? 3000) / tickMs));
  let scenario: Scenario = options.scenario ?? 'healthy';
  let percentage = 0;
  let tickCount = 0;
  let blips = 0;
  const ticks: Tick[] = [];
  const counters = { canary: emptyCounters(), stable: emptyCounters() };
  // Carries keep fractions of a request (or of an error) for the next tick, so shares are exact over time.
  const carry = { canary: 0, canaryErrors: 0, stableErrors: 0 };
  const sequence = { canary: 0.5, stable: 0.25 };

  const variants = options.variants;
  const stable: Behaviour = { ...STABLE, ...variants?.stable };
  const canaryBehaviour = (): Behaviour => {
    if (variants) return { ...HEALTHY_CANARY, ...variants.canary };
    if (scenario === 'bad' && percentage >= BAD_FROM_PERCENT) return BAD_CANARY;
    if (scenario === 'flaky' && percentage > 0 && tickCount % blipEveryTicks === 0) {
      blips++;
      return BLIP;
    }
    return HEALTHY_CANARY;
  };

  const serve = (variant: Variant, requests: number, behaviour: Behaviour): VariantTick => {
    const errorKey = variant === 'canary' ? 'canaryErrors' : 'stableErrors';
    carry[errorKey] += requests * behaviour.errorRate;
    const errors = Math.min(requests, Math.floor(carry[errorKey]));
    carry[errorKey] -= errors;
    const latenciesMs: number[] = [];
    for (let i = 0; i < requests; i++) {
      sequence[variant] = (sequence[variant] + GOLDEN) % 1;
      latenciesMs.push(latencyMs(behaviour.medianMs, sequence[variant]));
    }
    record(counters[variant], requests, errors, latenciesMs);
    return { requests, errors, latenciesMs };
  };

  const generate = () => {
    tickCount++;
    carry.canary += (perTick * percentage) / 100;
    const canaryRequests = Math.floor(carry.canary);
    carry.canary -= canaryRequests;
    const canary = serve('canary', canaryRequests, canaryBehaviour());
    const at = Date.now();
    ticks.push({ at, canary, stable: serve('stable', Math.round(perTick) - canaryRequests, stable) });
    while (ticks.length > 0 && (ticks[0]?.at ?? at) < at - KEPT_MS) ticks.shift();
  };

  const timer = setInterval(generate, tickMs);
  // The demo ends when its runs end; traffic alone must not keep the process alive.
  timer.unref();

  const summary = (windowMs: number): ServiceSummary => {
    const since = Date.now() - windowMs;
    const recent = ticks.filter((t) => t.at > since);
    return {
      ...summarise(recent.map((t) => t.canary)),
      percentage,
      scenario,
      windowMs,
      stable: summarise(recent.map((t) => t.stable)),
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === ROUTES.flag) {
      if (req.method === 'GET') return sendJson(res, 200, { percentage });
      if (req.method === 'PUT' || req.method === 'POST') {
        const next = parsePercentage(await readBody(req));
        if (next === undefined) return sendJson(res, 400, { error: 'expected a JSON body { "percentage": <integer 0..100> }' });
        percentage = next;
        return sendJson(res, 200, { percentage });
      }
      return sendJson(res, 405, { error: 'use GET or PUT' });
    }
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'use GET' });
    if (url.pathname === ROUTES.metrics) {
      const body = renderExposition(counters, percentage);
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (url.pathname === ROUTES.summary) {
      const window = url.searchParams.get('window');
      const windowMs = window === null ? DEFAULT_WINDOW_MS : parseDuration(window);
      if (windowMs === undefined || windowMs <= 0 || windowMs > KEPT_MS) return sendJson(res, 400, { error: `window must be a duration up to ${KEPT_MS / 1000}s, e.g. 800ms` });
      return sendJson(res, 200, summary(windowMs));
    }
    return sendJson(res, 404, { error: `no route ${url.pathname}; try ${ROUTES.flag}, ${ROUTES.metrics} or ${ROUTES.summary}` });
  };

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      else res.end();
    });
  });
  // close() must not wait for kept-alive connections of clients that are done with us.
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    flagUrl: `${base}${ROUTES.flag}`,
    metricsUrl: `${base}${ROUTES.metrics}`,
    summaryUrl: `${base}${ROUTES.summary}`,
    requestsPerSecond,
    get scenario() {
      return scenario;
    },
    get percentage() {
      return percentage;
    },
    get blips() {
      return blips;
    },
    reset(next) {
      scenario = next;
      percentage = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** 1/φ: successive multiples spread evenly over [0, 1), like random draws without the noise. */
const GOLDEN = 0.6180339887498949;

/**
 * A latency drawn from a log-logistic distribution (a long right tail, like real latencies) at
 * quantile `u`. Its p95 is about twice the median.
 */
function latencyMs(medianMs: number, u: number): number {
  const q = Math.min(Math.max(u, 0.001), 0.999);
  return medianMs * Math.pow(q / (1 - q), 1 / 4);
}

function emptyCounters(): Counters {
  return { ok: 0, errors: 0, buckets: BUCKETS_S.map(() => 0), sumSeconds: 0, count: 0 };
}

function record(c: Counters, requests: number, errors: number, latenciesMs: number[]): void {
  c.ok += requests - errors;
  c.errors += errors;
  c.count += requests;
  for (const ms of latenciesMs) {
    const s = ms / 1000;
    c.sumSeconds += s;
    BUCKETS_S.forEach((le, i) => {
      if (s <= le) c.buckets[i] = (c.buckets[i] ?? 0) + 1;
    });
  }
}

function summarise(ticks: VariantTick[]): VariantSummary {
  const requests = ticks.reduce((n, t) => n + t.requests, 0);
  const errors = ticks.reduce((n, t) => n + t.errors, 0);
  const latencies = ticks.flatMap((t) => t.latenciesMs).sort((a, b) => a - b);
  const p95 = latencies[Math.max(0, Math.ceil(latencies.length * 0.95) - 1)];
  return {
    requests,
    errors,
    errorRate: requests > 0 ? errors / requests : null,
    p95Ms: p95 === undefined ? null : round(p95),
    avgMs: latencies.length > 0 ? round(latencies.reduce((a, b) => a + b, 0) / latencies.length) : null,
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** The /metrics page: cumulative counters and a latency histogram per variant. */
function renderExposition(counters: Record<Variant, Counters>, percentage: number): string {
  const lines = [
    '# HELP http_requests_total Requests served, by variant (canary or stable) and status.',
    '# TYPE http_requests_total counter',
  ];
  for (const v of VARIANTS) {
    lines.push(`http_requests_total{variant="${v}",status="200"} ${counters[v].ok}`);
    lines.push(`http_requests_total{variant="${v}",status="500"} ${counters[v].errors}`);
  }
  lines.push('# HELP http_request_duration_seconds Request latency, by variant.', '# TYPE http_request_duration_seconds histogram');
  for (const v of VARIANTS) {
    const c = counters[v];
    BUCKETS_S.forEach((le, i) => lines.push(`http_request_duration_seconds_bucket{variant="${v}",le="${le}"} ${c.buckets[i] ?? 0}`));
    lines.push(`http_request_duration_seconds_bucket{variant="${v}",le="+Inf"} ${c.count}`);
    lines.push(`http_request_duration_seconds_sum{variant="${v}"} ${c.sumSeconds.toFixed(6)}`);
    lines.push(`http_request_duration_seconds_count{variant="${v}"} ${c.count}`);
  }
  lines.push('# HELP demo_flag_percentage The flag\'s current canary percentage.', '# TYPE demo_flag_percentage gauge', `demo_flag_percentage ${percentage}`);
  return `${lines.join('\n')}\n`;
}

function parsePercentage(body: string): number | undefined {
  try {
    const value = (JSON.parse(body) as { percentage?: unknown }).percentage;
    return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 100 ? value : undefined;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
