/**
 * A REAL Unleash server (the `unleash-server` package) for end-to-end tests of the unleash target:
 * a child process on 127.0.0.1 at a free port, its data in a database of the test's PostgreSQL,
 * with an admin API token, and no network beyond 127.0.0.1 (version check and telemetry off).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./unleash-child.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A running Unleash and an Admin API client for setting features up and reading them back. */
export interface TestUnleash {
  /** e.g. "http://127.0.0.1:41234" */
  url: string;
  /** The admin API token (a secret: it must never be printed). */
  token: string;
  /** Calls the Admin API; throws on a non-2xx answer. */
  admin(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Creates `feature` in project default with one flexibleRollout strategy at `rollout` % in production, on. */
  createFeature(feature: string, rollout: number): Promise<{ strategyId: string }>;
  /** The production environment of `feature`: on or off, and its flexibleRollout's rollout parameter. */
  production(feature: string): Promise<{ enabled: boolean; rollout: string | undefined }>;
  stop(): Promise<void>;
}

/** Starts Unleash on the PostgreSQL database at `databaseUrl` (it migrates it on first start). */
export async function startUnleash(databaseUrl: string): Promise<TestUnleash> {
  const token = `*:*.${randomBytes(16).toString('hex')}`;
  const child = spawn(process.execPath, [CHILD], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, UNLEASH_TEST_DB: databaseUrl, UNLEASH_TEST_TOKEN: token, CHECK_VERSION: 'false', SEND_TELEMETRY: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await listeningPort(child);
  const url = `http://127.0.0.1:${port}`;
  const admin = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: token, 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  };
  const featurePath = (feature: string) => `/api/admin/projects/default/features/${feature}`;
  return {
    url,
    token,
    admin,
    async createFeature(feature, rollout) {
      await admin('POST', '/api/admin/projects/default/features', { name: feature });
      const strategy = (await admin('POST', `${featurePath(feature)}/environments/production/strategies`, {
        name: 'flexibleRollout',
        parameters: { rollout: String(rollout), stickiness: 'default', groupId: feature },
      })) as { id: string };
      await admin('POST', `${featurePath(feature)}/environments/production/on`);
      return { strategyId: strategy.id };
    },
    async production(feature) {
      type Env = { name: string; enabled: boolean; strategies: { name: string; parameters?: { rollout?: string } }[] };
      const doc = (await admin('GET', featurePath(feature))) as { environments: Env[] };
      const env = doc.environments.find((e) => e.name === 'production');
      if (!env) throw new Error(`${feature} has no production environment`);
      return { enabled: env.enabled, rollout: env.strategies.find((s) => s.name === 'flexibleRollout')?.parameters?.rollout };
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Waits for the child's {"port": n} line; fails with its stderr if it exits first. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{"port"'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code, signal) => reject(new Error(`Unleash exited (${code ?? signal}) before it listened:\n${stderr.slice(-3000)}`)));
  });
}
