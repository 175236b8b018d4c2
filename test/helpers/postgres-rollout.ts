/**
 * The world of an end-to-end test on shared state: one real PostgreSQL server for the test file
 * and, for each test, a database of its own, a real local flag API and a plan directory.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import type { CliResult } from './cli.js';
import { servicePlan, startFakeService, type FakeService } from './fake-service.js';
import { startPostgres, type TestPostgres } from './postgres.js';

/** What the hooks set up; read its fields inside tests, never at import time. */
export interface PostgresRollout {
  server: TestPostgres;
  service: FakeService;
  /** Holds `rollout.yaml`; the CLI runs here. */
  dir: string;
  /** This test's own database. */
  url: string;
}

/**
 * Registers the hooks that keep a PostgresRollout; `plan` writes the plan for the test's service.
 * `name` prefixes the databases and directories, so failures are easy to trace.
 */
export function usePostgresRollout(name: string, plan: (service: FakeService) => string = (service) => servicePlan(service)): PostgresRollout {
  // Filled in by the hooks below before any test reads it.
  const world = {} as PostgresRollout;
  let databases = 0;
  beforeAll(async () => {
    world.server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await world.server?.destroy();
  });
  beforeEach(async () => {
    world.service = await startFakeService();
    world.dir = mkdtempSync(join(tmpdir(), `rollout-${name}-`));
    writeFileSync(join(world.dir, 'rollout.yaml'), plan(world.service));
    world.url = await world.server.createDatabase(`${name}_${++databases}`);
  });
  afterEach(async () => {
    await world.service.close();
  });
  return world;
}

/** Neither the database password nor its URL-encoded form was printed. */
export function expectNoPassword(server: TestPostgres, r: CliResult): void {
  for (const secret of [server.password, encodeURIComponent(server.password)]) {
    expect(r.stdout).not.toContain(secret);
    expect(r.stderr).not.toContain(secret);
  }
}
