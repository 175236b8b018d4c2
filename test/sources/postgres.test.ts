/**
 * The postgres source against a REAL PostgreSQL holding an app's conversations (the runbook's
 * table): the runbook's percentage over a window, every way a result is not one number, writes
 * refused by the read-only transaction, a slow query cut on the client and on the server, a
 * database that is down, and a pool that shutdown closes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { processSecrets } from '../../src/plan/secrets.js';
import type { Plan } from '../../src/plan/types.js';
import { shutdown } from '../../src/shutdown.js';
import { createPostgresSource } from '../../src/sources/postgres.js';
import { createSources, readPoll } from '../../src/sources/read-metrics.js';
import { NoDataError } from '../../src/sources/source.js';
import { planFromYaml } from '../helpers/plan.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

/** The runbook's query, with the window as $1 and no division by zero on an empty window. */
const METADATA_PERCENT = `SELECT ROUND(COUNT(metadata)::numeric / NULLIF(COUNT(*), 0)::numeric * 100, 2)
  FROM conversations WHERE created_at > NOW() - $1::interval`;

let server: TestPostgres;
let url: string;
let admin: pg.Client;

beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase('app');
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
  // Ages in hours, and whether each conversation has metadata. Within 1h: 1 of 1; 4h: 2 of 3; 24h: 3 of 4; all: 3 of 6.
  await admin.query(`
    CREATE TABLE conversations (id serial PRIMARY KEY, created_at timestamptz NOT NULL, metadata jsonb);
    INSERT INTO conversations (created_at, metadata) VALUES
      (now() - interval '30 minutes', '{"entities": 2}'), (now() - interval '2 hours', '{}'), (now() - interval '3 hours', NULL),
      (now() - interval '5 hours', '{}'), (now() - interval '30 hours', NULL), (now() - interval '40 hours', NULL);
    CREATE TABLE audit (n int);
    CREATE FUNCTION record_read() RETURNS int LANGUAGE sql AS $$ INSERT INTO audit VALUES (1) RETURNING 1 $$;
    CREATE SEQUENCE reads;`);
}, 120_000);

afterAll(async () => {
  await admin?.end();
  await server?.destroy();
});

function source(timeoutMs = 5000, at = url) {
  return createPostgresSource({ type: 'postgres', name: 'db', url: at, timeoutMs }, { intervalMs: 3_600_000 });
}

const never = new AbortController().signal;

async function noDataReason(read: Promise<number>): Promise<string> {
  const err = await read.then(
    (value) => new Error(`read ${value}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NoDataError);
  return (err as NoDataError).reason;
}

/** The app's connections the server sees for `application_name` rollout. */
async function rolloutConnections(): Promise<{ state: string; query: string }[]> {
  const { rows } = await admin.query<{ state: string; query: string }>("SELECT state, query FROM pg_stat_activity WHERE datname = 'app' AND application_name = 'rollout'");
  return rows;
}

async function waitFor(condition: () => Promise<boolean>, limitMs: number): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > limitMs) throw new Error(`still not so after ${limitMs} ms`);
    await sleep(100);
  }
  return Date.now() - started;
}

describe('values', () => {
  it('reads the runbook percentage over the window given as $1 (the poll interval unless the metric has a window)', async () => {
    const plan = await planFromYaml(
      `
version: 1
name: metadata
stages: [10, 100]
analysis: { interval: 1h, requests: { source: app, sql: "SELECT count(*) FROM conversations WHERE created_at > now() - $1::interval", window: 48h } }
sources: { app: { type: postgres, url: "\${DATABASE_URL}" } }
metrics:
  - { name: last_day, source: app, sql: "${METADATA_PERCENT.replace(/\s+/g, ' ')}", window: 24h, unit: percent, critical: "< 50%" }
  - { name: last_4h, source: app, sql: "${METADATA_PERCENT.replace(/\s+/g, ' ')}", window: 4h, unit: percent, critical: "< 50%" }
  - { name: last_poll, source: app, sql: "${METADATA_PERCENT.replace(/\s+/g, ' ')}", unit: percent, critical: "< 50%" }
target: { type: command, set: [echo, "{{percent}}"] }
`,
      { env: { DATABASE_URL: url } },
    );
    const sources = await createSources(plan, { scrapeDir: mkdtempSync(join(tmpdir(), 'rollout-pg-source-')), clock: systemClock });
    const poll = await readPoll(plan, sources);
    expect(poll.metrics).toEqual([
      { name: 'last_day', value: 75 },
      { name: 'last_4h', value: 66.67 },
      { name: 'last_poll', value: 100 },
    ]);
    expect(poll.requests).toEqual({ name: 'requests', value: 6 });
  });

  it.each([
    ['bigint', 'SELECT count(*) FROM conversations', 6],
    ['integer', 'SELECT 2::int', 2],
    ['smallint', 'SELECT 3::smallint', 3],
    ['double', 'SELECT 0.125::float8', 0.125],
    ['real', 'SELECT 0.5::real', 0.5],
    ['numeric', 'SELECT 1.25::numeric', 1.25],
    ['a query with a ; in a string and a trailing ;', "SELECT length('a;b');", 3],
    ['a WITH query', 'WITH recent AS (SELECT * FROM conversations WHERE metadata IS NOT NULL) SELECT count(*) FROM recent', 3],
  ])('reads a %s', async (_, sql, expected) => {
    expect(await source().measure(sql, never)).toBe(expected);
  });

  it('gives $1 as an interval text of the window', async () => {
    expect(await source().measure('SELECT extract(epoch FROM $1::interval)', never, 1500)).toBe(1.5);
  });
});

describe('no data', () => {
  it.each([
    ['no row', 'SELECT 1 WHERE false', 'the query returned no row'],
    ['several rows', 'SELECT generate_series(1, 3)', 'the query returned 3 rows; it must return one'],
    ['two columns', 'SELECT 1, 2', 'the query returned 2 columns; it must return one number'],
    ['no column', 'SELECT FROM conversations LIMIT 1', 'the query returned 0 columns; it must return one number'],
    ['NULL', "SELECT max(id) FROM conversations WHERE created_at > now() - $1::interval AND false", 'the query returned NULL (max)'],
    ['text', "SELECT 'abc'", 'the query returned a text value (?column?), not a number'],
    ['a number as text', "SELECT '12'::text AS share", 'the query returned a text value (share), not a number'],
    ['a boolean', 'SELECT true AS ok', 'the query returned a bool value (ok), not a number'],
    ['NaN', "SELECT 'NaN'::float8 AS rate", 'the query returned NaN (rate), not a finite number'],
    ['infinity', "SELECT 'Infinity'::numeric AS rate", 'the query returned Infinity (rate), not a finite number'],
    ['an error', 'SELECT 1 / 0', 'the query failed: division by zero'],
    ['a missing table', 'SELECT count(*) FROM chats', 'the query failed: relation "chats" does not exist'],
    ['two statements', 'SELECT 1; SELECT 2', 'the query holds 2 statements: a metric reads one SELECT; remove the others (a trailing ; is fine)'],
    ['an unknown parameter', 'SELECT $2::int', 'the query uses $2, which is never given'],
  ])('%s', async (_, sql, reason) => {
    expect(await noDataReason(source().measure(sql, never))).toContain(reason);
  });
});

describe('writes', () => {
  it.each([
    // PostgreSQL names the statement holding the data-modifying WITH.
    ['an INSERT in a WITH', 'WITH w AS (INSERT INTO audit VALUES (1) RETURNING n) SELECT count(*) FROM w', 'cannot execute SELECT in a read-only transaction'],
    ['a function that writes', 'SELECT record_read()', 'cannot execute INSERT in a read-only transaction'],
    ['a sequence', "SELECT nextval('reads')", 'cannot execute nextval() in a read-only transaction'],
    ['a row lock', 'SELECT id FROM conversations LIMIT 1 FOR UPDATE', 'cannot execute SELECT FOR UPDATE in a read-only transaction'],
  ])('%s is refused by the read-only transaction', async (_, sql, message) => {
    const reason = await noDataReason(source().measure(sql, never));
    expect(reason).toBe(`refused, the query would write: ${message}; a source only reads`);
    expect((await admin.query('SELECT count(*)::int AS n FROM audit')).rows[0].n).toBe(0);
    expect((await admin.query('SELECT last_value, is_called FROM reads')).rows[0].is_called).toBe(false);
  });

  it('a statement that reads no table is refused before it reaches the database', async () => {
    expect(await noDataReason(source().measure('INSERT INTO audit VALUES (1)', never))).toMatch(/^the query starts with INSERT, which does not read/);
    expect(await noDataReason(source().measure("SET work_mem = '8MB'", never))).toMatch(/^the query starts with SET/);
  });

  it('a setting the query changes does not outlive it: the transaction is rolled back', async () => {
    const read = source();
    expect(await read.measure("SELECT length(set_config('application_name', 'changed-by-query', false))", never)).toBe(16);
    const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'changed-by-query'");
    expect(rows[0].n).toBe(0);
  });

  it('text the tokenizer reads as one statement cannot run a second one (a server with standard_conforming_strings off)', async () => {
    const legacy = await server.createDatabase('legacy');
    await admin.query('ALTER DATABASE legacy SET standard_conforming_strings = off');
    const legacyAdmin = new pg.Client({ connectionString: legacy });
    await legacyAdmin.connect();
    try {
      await legacyAdmin.query('CREATE TABLE audit (n int)');
      // With backslash escapes, \\' ends the string early: COMMIT would end the read-only transaction and INSERT would write.
      const sneaky = "SELECT 'a\\''; COMMIT; INSERT INTO audit VALUES (2); SELECT 1 -- '";
      const reason = await noDataReason(source(5000, legacy).measure(sneaky, never));
      expect(reason).toBe('the query failed: cannot insert multiple commands into a prepared statement');
      expect((await legacyAdmin.query('SELECT count(*)::int AS n FROM audit')).rows[0].n).toBe(0);
    } finally {
      await legacyAdmin.end();
    }
  });
});

describe('timeouts', () => {
  const SLOW = 'SELECT 1 FROM pg_sleep(20)';
  const running = async () => (await rolloutConnections()).some((c) => c.query === SLOW && c.state === 'active');

  it('a slow query is cut at the deadline of the poll, and the server stops it too', async () => {
    const plan: Plan = await planFromYaml(
      `
version: 1
name: slow
stages: [100]
sources: { app: { type: postgres, url: "\${DATABASE_URL}", timeout: 1s } }
metrics: [{ name: slow, source: app, sql: "${SLOW}", critical: "> 1" }]
target: { type: command, set: [echo, "{{percent}}"] }
`,
      { env: { DATABASE_URL: url } },
    );
    const sources = await createSources(plan, { scrapeDir: mkdtempSync(join(tmpdir(), 'rollout-pg-source-')), clock: systemClock });
    const started = Date.now();
    const poll = await readPoll(plan, sources);
    // 1 s deadline; measured ~1.0 s.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(poll.metrics).toEqual([{ name: 'slow', noDataReason: 'timeout after 1000 ms' }]);
    // pg_sleep(20) would run 20 s; its statement_timeout (1 s) ends it. Measured gone 0.1 s after the deadline.
    await waitFor(async () => !(await running()), 10_000);
  });

  it('the server cancels a query past the source timeout even when no deadline aborts the read', async () => {
    const started = Date.now();
    const reason = await noDataReason(source(1000).measure(SLOW, never));
    expect(reason).toBe("the query ran past the source's timeout of 1000 ms and was cancelled: canceling statement due to statement timeout");
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('the pool', () => {
  it('is shared by the metrics of a source and closed at shutdown', async () => {
    // The pools of the tests before, so that only this one's connections are counted.
    await shutdown();
    await waitFor(async () => (await rolloutConnections()).length === 0, 5000);
    const read = source();
    await Promise.all(Array.from({ length: 8 }, () => read.measure('SELECT 1 FROM pg_sleep(0.2)', never)));
    const open = await rolloutConnections();
    // Eight reads at once, three connections (POOL_SIZE), kept idle for the next poll.
    expect(open.length).toBe(3);
    await shutdown();
    // Idle connections would otherwise stay 10 s (idleTimeoutMillis). Measured gone within 0.12 s.
    await waitFor(async () => (await rolloutConnections()).length === 0, 5000);
  });

  it('does not keep shutdown waiting for a read abandoned mid-query (Ctrl-C): its connection is closed', async () => {
    const poll = new AbortController();
    const read = source(20_000).measure('SELECT 1 FROM pg_sleep(20)', poll.signal);
    await waitFor(async () => (await rolloutConnections()).some((c) => c.state === 'active'), 5000);
    // As on Ctrl-C: the poll gives up on the read and the process shuts down at once.
    const started = Date.now();
    poll.abort(new Error('interrupted'));
    await shutdown();
    // A pool ends when its connections are back; the query's would be back after 20 s. Measured under 1 ms.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await noDataReason(read)).toBe('the query failed: Connection terminated');
  });
});

describe('TLS', () => {
  it.each([
    ['a CA file that is missing', { ca: '/nonexistent/ca.pem' }, 'cannot read ssl.ca /nonexistent/ca.pem: ENOENT'],
    ['TLS from a server without it', true, 'cannot connect to the database: The server does not support SSL connections'],
  ])('%s is no data', async (_, ssl, reason) => {
    const read = createPostgresSource({ type: 'postgres', name: 'db', url, ssl, timeoutMs: 5000 }, { intervalMs: 60_000 });
    expect(await noDataReason(read.measure('SELECT 1', never))).toBe(reason);
  });
});

describe('secrets', () => {
  it('the password of a URL is a secret even when the plan writes it out: every output redacts it', () => {
    source(5000, 'postgres://app:written-out%2Fpw@127.0.0.1:9/app');
    expect(processSecrets.redact('written-out/pw, written-out%2Fpw')).toBe('***, ***');
  });
});

describe('a database that is down', () => {
  it('reads as no data with the reason, without the password, and reads again once it is back', async () => {
    const read = source(2000);
    expect(await read.measure('SELECT 1', never)).toBe(1);
    await admin.end();
    await server.stop();
    try {
      const reason = await noDataReason(read.measure('SELECT 1', never));
      expect(reason).toMatch(/^cannot connect to the database: .*ECONNREFUSED|^the query failed: /);
      expect(reason).not.toContain(server.password);
      expect(reason).not.toContain(encodeURIComponent(server.password));
    } finally {
      await server.restart();
      admin = new pg.Client({ connectionString: url });
      await admin.connect();
    }
    expect(await read.measure('SELECT 1', never)).toBe(1);
    await shutdown();
  });

  it('a port nobody listens on is no data, not a crash', async () => {
    const closed = url.replace(/:\d+\//, ':9/');
    expect(await noDataReason(source(2000, closed).measure('SELECT 1', never))).toMatch(/^cannot connect to the database: connect ECONNREFUSED 127\.0\.0\.1:9/);
  });
});
