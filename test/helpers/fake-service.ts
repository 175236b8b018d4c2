/**
 * A real local service for end-to-end tests: a flag API (GET/PUT `{ "percentage": n }`) and a JSON
 * metrics route whose values the test sets, on 127.0.0.1 (port 0). It records every request.
 */
import { sendJson, startTestServer, type TestServer } from './http-server.js';

export interface FakeService {
  server: TestServer;
  url: string;
  /** The flag's current percentage (what the target reads back). */
  percentage: number;
  /** The metrics document served at /metrics.json; `null` makes the route answer 503. */
  metrics: Record<string, number> | null;
  /** Delays each PUT of the flag by this many ms (to hold a lock open in race tests). */
  putDelayMs: number;
  /** PUT bodies received and applied, in order. */
  puts: number[];
  /** Metrics for the next reads, one each, in order; each becomes `metrics` as it is served. */
  metricsQueue: Record<string, number>[];
  /** A PUT of a percentage for which this returns true is refused with 503 and not applied. */
  refusePut: (percent: number) => boolean;
  /**
   * Makes the next PUT wait, once received, until the returned function is called: a command is
   * held mid-apply, with its lock taken, for exactly as long as the test needs. Later PUTs pass.
   */
  holdNextPut(): () => void;
  /** Like holdNextPut, for the next read of the metrics route: a command is held mid-judgement. */
  holdNextMetricsRead(): () => void;
  /** Like holdNextPut, for the next GET of the flag: a command is held while it reads the target. */
  holdNextFlagRead(): () => void;
  close(): Promise<void>;
}

/** Starts the service with the flag at 0 and healthy metrics. */
export async function startFakeService(): Promise<FakeService> {
  let nextPutGate: Promise<void> | undefined;
  let nextMetricsGate: Promise<void> | undefined;
  let nextFlagReadGate: Promise<void> | undefined;
  const gate = (): { promise: Promise<void>; release: () => void } => {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    return { promise, release };
  };
  const service: FakeService = {
    server: undefined as unknown as TestServer,
    url: '',
    percentage: 0,
    metrics: { errorRate: 0.001, p95: 0.2, requests: 1000 },
    putDelayMs: 0,
    puts: [],
    metricsQueue: [],
    refusePut: () => false,
    holdNextPut() {
      const { promise, release } = gate();
      nextPutGate = promise;
      return release;
    },
    holdNextMetricsRead() {
      const { promise, release } = gate();
      nextMetricsGate = promise;
      return release;
    },
    holdNextFlagRead() {
      const { promise, release } = gate();
      nextFlagReadGate = promise;
      return release;
    },
    close: () => service.server.close(),
  };
  service.server = await startTestServer(async (req, res) => {
    if (req.url === '/flag' && req.method === 'GET') {
      const held = nextFlagReadGate;
      nextFlagReadGate = undefined;
      if (held) await held;
      return sendJson(res, 200, { percentage: service.percentage });
    }
    if (req.url === '/flag' && req.method === 'PUT') {
      const body = JSON.parse(req.body) as { percentage: number };
      if (service.putDelayMs) await new Promise((r) => setTimeout(r, service.putDelayMs));
      const held = nextPutGate;
      nextPutGate = undefined;
      if (held) await held;
      if (service.refusePut(body.percentage)) return sendJson(res, 503, { error: 'flag store unavailable' });
      service.percentage = body.percentage;
      service.puts.push(body.percentage);
      return sendJson(res, 200, { percentage: service.percentage });
    }
    if (req.url === '/flag/disable' && req.method === 'POST') return sendJson(res, 200, { disabled: true });
    if (req.url === '/metrics.json') {
      const held = nextMetricsGate;
      nextMetricsGate = undefined;
      if (held) await held;
      service.metrics = service.metricsQueue.shift() ?? service.metrics;
      if (!service.metrics) return sendJson(res, 503, { error: 'down' });
      return sendJson(res, 200, { result: { data: { json: service.metrics } } });
    }
    res.writeHead(404).end();
  });
  service.url = service.server.url;
  return service;
}

/** A plan for the service: http target with read-back and an emergency call, JSON metrics. */
export function servicePlan(service: FakeService, options: { bake?: string; stages?: string; extra?: string } = {}): string {
  return `version: 1
name: e2e
stages: ${options.stages ?? '[10, 25, 50, 75, 100]'}
analysis: { interval: 1s, bake: ${options.bake ?? '0s'}, failureLimit: 2 }
sources:
  app: { type: json, url: "${service.url}/metrics.json", headers: { Authorization: "Bearer \${APP_TOKEN}" }, timeout: 10s }
metrics:
  - { name: error_rate, source: app, path: result.data.json.errorRate, unit: ratio, warning: "> 1%", critical: "> 5%" }
  - { name: p95_latency, source: app, path: result.data.json.p95, unit: seconds, warning: "> 1s", critical: "> 3s" }
target:
  type: http
  set: { method: PUT, url: "${service.url}/flag", body: { percentage: "{{percent}}" } }
  get: { url: "${service.url}/flag", path: percentage }
  emergency: [{ method: POST, url: "${service.url}/flag/disable" }]
  retries: 0
${options.extra ?? ''}`;
}
