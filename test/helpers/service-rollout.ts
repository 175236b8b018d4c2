/**
 * The world of an end-to-end test on the file store: for each test, a real local flag API with a
 * metrics route (fake-service.ts), a webhook receiver that records what it is sent, and a plan
 * directory; with readers for the state and history the CLI leaves in it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { HistoryEvent, RolloutState } from '../../src/state/types.js';
import { runCli, type CliResult } from './cli.js';
import { startFakeService, type FakeService } from './fake-service.js';
import { sendJson, startTestServer, type TestServer } from './http-server.js';

/** What the hooks set up; read its fields inside tests, never at import time. */
export interface ServiceRollout {
  service: FakeService;
  /** Answers 200 to every notification and records it. */
  receiver: TestServer;
  /** Holds `rollout.yaml`; the CLI runs here. */
  dir: string;
  /** Runs `rollout ...args` in `dir` with `env` (and `extraEnv`). */
  rollout(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<CliResult>;
  /** Rewrites the plan. */
  writePlan(text: string): void;
  /** The stored state and history of rollout `e2e` (in `stateDir`, default `.rollout/`). */
  state(stateDir?: string): RolloutState;
  history(stateDir?: string): HistoryEvent[];
  /** History as "action from→to" lines. */
  moves(stateDir?: string): string[];
  /** The actions of the notifications the receiver got, in order. */
  delivered(): string[];
}

/** Registers hooks that give each test a fresh ServiceRollout; `plan` writes its plan. */
export function useServiceRollout(name: string, env: NodeJS.ProcessEnv, plan: (service: FakeService, receiver: TestServer) => string): ServiceRollout {
  const stateFile = (file: string, stateDir?: string) => readFileSync(join(stateDir ?? join(world.dir, '.rollout'), file), 'utf8');
  const world: ServiceRollout = {
    service: undefined as unknown as FakeService,
    receiver: undefined as unknown as TestServer,
    dir: '',
    rollout: (args, extraEnv = {}) => runCli(args, { cwd: world.dir, env: { ...env, ...extraEnv } }),
    writePlan: (text) => writeFileSync(join(world.dir, 'rollout.yaml'), text),
    state: (stateDir) => JSON.parse(stateFile('e2e.json', stateDir)) as RolloutState,
    history: (stateDir) =>
      stateFile('e2e.history.jsonl', stateDir)
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as HistoryEvent),
    moves: (stateDir) => world.history(stateDir).map((e) => `${e.action} ${e.from}→${e.to}`),
    delivered: () => world.receiver.requests.map((req) => (JSON.parse(req.body) as HistoryEvent).action),
  };
  beforeEach(async () => {
    world.service = await startFakeService();
    world.receiver = await startTestServer((_req, res) => sendJson(res, 200, {}));
    world.dir = mkdtempSync(join(tmpdir(), `rollout-${name}-`));
    world.writePlan(plan(world.service, world.receiver));
  });
  afterEach(async () => {
    await Promise.all([world.service.close(), world.receiver.close()]);
  });
  return world;
}
