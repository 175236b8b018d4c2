/**
 * A REAL Prometheus server for integration tests (Debian package `prometheus`, 2.42+), on
 * 127.0.0.1 with a free port and a throw-away storage directory, scraping the targets the test
 * names every second. Tests against it prove our reading of the HTTP API against the real thing
 * rather than against our own idea of its answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from './http-server.js';

/** What to scrape. */
export interface PrometheusOptions {
  /** `host:port` of each /metrics service to scrape, e.g. "127.0.0.1:41234". */
  targets: string[];
  /** Default 1: a short interval keeps rate() windows, and so the tests, short. */
  scrapeIntervalSeconds?: number;
}

/** A running Prometheus. */
export interface PrometheusServer {
  /** Base URL of its HTTP API, e.g. "http://127.0.0.1:40123". */
  url: string;
  /** Stops it (SIGTERM, then waits for the exit) and removes its storage; safe to call twice. */
  stop(): Promise<void>;
}

const BINARY = process.env.PROMETHEUS_BIN ?? 'prometheus';
const INSTALL_HINT =
  'the real-Prometheus tests need the Debian package `prometheus` (2.42+): run `apt-get install -y prometheus`, ' +
  'or point PROMETHEUS_BIN at a prometheus binary';
const START_TIMEOUT_MS = 30_000;

/** Starts Prometheus and resolves once it is ready and has scraped every target at least once. */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'rollout-prometheus-'));
  const interval = options.scrapeIntervalSeconds ?? 1;
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, configText(options.targets, interval));
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    BINARY,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-4000);
  });
  let exitReason: string | undefined;
  child.once('error', (err: NodeJS.ErrnoException) => {
    exitReason = err.code === 'ENOENT' ? `${BINARY} not found: ${INSTALL_HINT}` : err.message;
  });
  child.once('exit', (code, signal) => {
    exitReason ??= `prometheus exited (${signal ?? `code ${code}`}):\n${log}`;
  });
  // A test that crashes before its afterAll must not leave a Prometheus behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopped: Promise<void> | undefined;
  const server: PrometheusServer = {
    url,
    stop: () => {
      stopped ??= (async () => {
        process.removeListener('exit', killOnExit);
        await terminate(child);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  const waitUntil = async (condition: () => Promise<boolean>, failure: string): Promise<void> => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await condition())) {
      if (exitReason !== undefined) throw new Error(exitReason);
      if (Date.now() > deadline) throw new Error(`${failure} within ${START_TIMEOUT_MS} ms:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  try {
    await waitUntil(() => isReady(url), `Prometheus at ${url} was not ready`);
    await waitUntil(() => hasScraped(url, options.targets.length), `Prometheus did not scrape ${options.targets.join(', ')}`);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

function configText(targets: string[], intervalSeconds: number): string {
  return [
    'global:',
    `  scrape_interval: ${intervalSeconds}s`,
    `  scrape_timeout: ${intervalSeconds}s`,
    `  evaluation_interval: ${intervalSeconds}s`,
    'scrape_configs:',
    '  - job_name: service',
    '    static_configs:',
    `      - targets: ${JSON.stringify(targets)}`,
    '',
  ].join('\n');
}

async function isReady(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/-/ready`)).ok;
  } catch {
    return false;
  }
}

// `up` has one series per target once that target's first scrape is stored.
async function hasScraped(url: string, targets: number): Promise<boolean> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('count(up)')}`);
  const body = (await res.json()) as { data?: { result?: { value?: [number, string] }[] } };
  return Number(body.data?.result?.[0]?.value?.[1]) >= targets;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exit;
  clearTimeout(timer);
}
