/**
 * The postgres source through the built CLI: `validate` reads the SQL (one statement, that reads,
 * $1 at most) and the windows; `check` shows the query's value against a real PostgreSQL, never
 * the password, and exits at once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

/** Writes a plan with a postgres source `app` (and a prometheus one, `prom`) and these metrics. */
function planDir(metrics: string, extra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-pg-cli-'));
  writeFileSync(
    join(dir, 'rollout.yaml'),
    `version: 1
name: metadata
stages: [10, 100]
analysis: { interval: 5m }
sources:
  app: { type: postgres, url: "\${DATABASE_URL}", timeout: 3s }
  prom: { type: prometheus, url: "http://127.0.0.1:9" }
metrics:
${metrics}
target: { type: command, set: [echo, "{{percent}}"] }
${extra}`,
  );
  return dir;
}

describe('rollout validate', () => {
  it('accepts one statement with ; in strings and comments, a trailing ;, and a window', async () => {
    const dir = planDir(`  - name: share
    source: app
    sql: |
      SELECT count(*) FILTER (WHERE note <> 'a;b') -- counts; all of them
      FROM conversations WHERE created_at > now() - $1::interval;
    window: 24h
    critical: "> 5"`);
    const r = await runCli(['validate'], { cwd: dir, env: { DATABASE_URL: 'postgres://app:pw@127.0.0.1:9/app' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('names each problem of the SQL and the windows with its line', async () => {
    const dir = planDir(`  - { name: two, source: app, sql: "SELECT 1; SELECT 2", critical: "> 5" }
  - { name: writes, source: app, sql: "DELETE FROM conversations", critical: "> 5" }
  - { name: second_param, source: app, sql: "SELECT $2::int", critical: "> 5" }
  - { name: empty_window, source: app, sql: "SELECT 1", window: 0s, critical: "> 5" }
  - { name: prom_window, source: prom, query: "up", window: 1h, critical: "> 5" }
  - { name: wrong_field, source: app, query: "SELECT 1", critical: "> 5" }`);
    const r = await runCli(['validate'], { cwd: dir, env: { DATABASE_URL: 'postgres://app:s3cret-pw@127.0.0.1:9/app' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rollout\.yaml:9:\d+: the query holds 2 statements/);
    expect(r.stderr).toMatch(/rollout\.yaml:10:\d+: the query starts with DELETE, which does not read/);
    expect(r.stderr).toMatch(/rollout\.yaml:11:\d+: the query uses \$2, which is never given/);
    expect(r.stderr).toMatch(/rollout\.yaml:12:\d+: a window of 0 covers no time/);
    expect(r.stderr).toMatch(/rollout\.yaml:13:\d+: `window` does not apply to prometheus source "prom"/);
    expect(r.stderr).toMatch(/rollout\.yaml:14:\d+: `query` does not apply to postgres source "app"/);
    expect(r.stderr).not.toContain('s3cret-pw');
  });

  it('a comparison counts since the previous poll: each count must use $1, and takes no window', async () => {
    const since = "created_at > now() - $1::interval";
    const dir = planDir(`  - name: failed_orders
    source: app
    window: 1h
    compare:
      canary: { events: "SELECT count(*) FROM orders WHERE failed AND variant = 'canary'", total: "SELECT count(*) FROM orders WHERE variant = 'canary' AND ${since}" }
      baseline: { events: "SELECT count(*) FROM orders WHERE failed AND variant = 'stable' AND ${since}", total: "SELECT count(*) FROM orders WHERE variant = 'stable' AND ${since}" }
      effect: "+50%"`);
    const r = await runCli(['validate'], { cwd: dir, env: { DATABASE_URL: 'postgres://app:pw@127.0.0.1:9/app' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rollout\.yaml:11:\d+: `window` does not apply to a comparison metric/);
    expect(r.stderr).toMatch(/rollout\.yaml:13:\d+: the count does not use \$1, the time since the previous poll/);
    expect(r.stderr.match(/does not use \$1/g)).toHaveLength(1);
  });
});

describe('rollout check', () => {
  let server: TestPostgres;
  let url: string;

  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase('app');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`CREATE TABLE conversations (created_at timestamptz NOT NULL, metadata jsonb);
      INSERT INTO conversations SELECT now() - n * interval '1 hour', CASE WHEN n % 4 = 0 THEN NULL ELSE '{}'::jsonb END FROM generate_series(1, 8) n;`);
    await client.end();
  }, 120_000);

  afterAll(async () => {
    await server?.destroy();
  });

  const METADATA_PERCENT = `  - name: metadata_share
    source: app
    sql: SELECT ROUND(COUNT(metadata)::numeric / NULLIF(COUNT(*), 0) * 100, 2) FROM conversations WHERE created_at > NOW() - $1::interval
    window: 24h
    unit: percent
    warning: "< 90%"
    critical: "< 50%"`;

  it('shows the value the query returns, and exits at once', async () => {
    const started = Date.now();
    const r = await runCli(['check', '--state-dir', '.state'], { cwd: planDir(METADATA_PERCENT), env: { DATABASE_URL: url } });
    // Measured 0.3 s. Shutdown ends the pool (test/sources/postgres.test.ts proves it on the server);
    // an idle connection would not hold the process either (allowExitOnIdle), but a busy one would.
    expect(Date.now() - started).toBeLessThan(8000);
    expect(r.stderr).toBe('');
    // 6 of the last 8 hourly conversations have metadata: 75 %, a warning, which holds (3).
    expect(r.stdout).toMatch(/│ metadata_share │ 75% +│ < 90% +│ < 50% +│ warning +│/);
    expect(r.code).toBe(3);
    expect(r.stdout).not.toContain(server.password);
  });

  it('reads a database that is down as no data with its reason, without the password', async () => {
    const down = url.replace(/:\d+\//, ':9/');
    const r = await runCli(['check', '--state-dir', '.state', '--json'], { cwd: planDir(METADATA_PERCENT), env: { DATABASE_URL: down } });
    expect(r.code).toBe(3);
    const out = JSON.parse(r.stdout) as { readings: { name: string; status: string; reason?: string }[] };
    expect(out.readings).toEqual([expect.objectContaining({ name: 'metadata_share', status: 'nodata', reason: 'cannot connect to the database: connect ECONNREFUSED 127.0.0.1:9' })]);
    expect(r.stdout + r.stderr).not.toContain(server.password);
    expect(r.stdout + r.stderr).not.toContain(encodeURIComponent(server.password));
  });
});
