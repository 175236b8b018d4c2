import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, ExitCode, StateCorruptError, StateStoreError } from '../../src/errors.js';
import { lockHolder } from '../../src/state/actor.js';
import { createPostgresStore, type PostgresStoreOptions } from '../../src/state/postgres-store.js';
import type { StateStore } from '../../src/state/types.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { describeStoreContract, eventFor, sampleAt, stateAt } from './store-contract.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 600_000);
afterAll(async () => {
  await server?.destroy();
});

describeStoreContract('postgres', (plan) => createPostgresStore({ url: server.url, plan }));

describe('postgres store', () => {
  const opened: StateStore[] = [];
  function open(options: Partial<PostgresStoreOptions> & { plan: string }): StateStore {
    const store = createPostgresStore({ url: server.url, ...options });
    opened.push(store);
    return store;
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  async function sql(url: string, text: string): Promise<pg.QueryResult> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await client.query(text);
    } finally {
      await client.end();
    }
  }

  it('migrates a fresh database once when several processes start together', async () => {
    const url = await server.createDatabase('migration_race');
    const stores = Array.from({ length: 6 }, (_, i) => open({ url, plan: `race-${i}` }));
    expect(await Promise.all(stores.map((s) => s.load()))).toEqual(stores.map(() => undefined));
    const { rows } = await sql(url, 'SELECT version FROM rollout_migrations ORDER BY version');
    expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
  });

  it('adds the poll log to a database an older rollout created (migration 2), keeping its rows', async () => {
    const url = await server.createDatabase('migration_upgrade');
    await open({ url, plan: 'old' }).save(stateAt('old', 1), [eventFor('old', 'start')]);
    // As an older rollout left it: schema version 1, no samples table.
    await sql(url, 'DROP TABLE rollout_samples; DELETE FROM rollout_migrations WHERE version = 2');
    const store = open({ url, plan: 'old' });
    await store.appendSamples([sampleAt(1)]);
    expect(await store.samples()).toEqual([sampleAt(1)]);
    expect((await store.history()).map((e) => e.reason)).toEqual(['start']);
    const { rows } = await sql(url, 'SELECT version FROM rollout_migrations ORDER BY version');
    expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
  });

  it('reports a state row of the wrong shape as StateCorruptError; a forced save replaces it', async () => {
    const plan = 'corrupt-row';
    const store = open({ plan });
    await store.save(stateAt(plan, 1), []);
    await sql(server.url, `UPDATE rollout_state SET state = '{"plan": 3}' WHERE plan = '${plan}'`);
    const err = await store.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateCorruptError);
    expect((err as StateCorruptError).hint).toContain('rollback --emergency');
    await store.save(stateAt(plan, 1, { percent: 0 }), [eventFor(plan, 'emergency')], { force: true });
    expect(await store.load()).toEqual({ ...stateAt(plan, 1, { percent: 0 }), version: 2 });
  });

  // A 2 s lease: every check below has at least a second of slack on either side of the expiry.
  it('lets another runner take the lock once a killed runner’s lease expires', async () => {
    const plan = 'lease-expiry';
    const killed = open({ plan, leaseMs: 2000 });
    const runner = { ...lockHolder('run', { ROLLOUT_ACTOR: 'ci' }), host: 'runner-7.ci.invalid' };
    await killed.lock(runner);
    // Closing without release is what a killed runner leaves: a row nobody refreshes.
    await killed.close();
    const other = open({ plan });
    await expect(other.lock(lockHolder('advance'))).rejects.toThrow(/locked by ci/);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const lock = await other.lock(lockHolder('advance'));
    expect(lock.tookOverFrom).toBeUndefined();
  });

  it('keeps refreshing a held lease so it does not expire', async () => {
    const plan = 'lease-refresh';
    const holder = { ...lockHolder('run', { ROLLOUT_ACTOR: 'ci' }), host: 'runner-8.ci.invalid' };
    // Refreshed every 667 ms: a timer late by up to 1.3 s still keeps the lease; unrefreshed, it
    // would have expired a second before the check.
    const lock = await open({ plan, leaseMs: 2000 }).lock(holder);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await expect(open({ plan }).lock(lockHolder('advance'))).rejects.toBeInstanceOf(ConflictError);
    await lock.release();
    await (await open({ plan }).lock(lockHolder('advance'))).release();
  });

  it('reports a wrong password as StateStoreError without printing it', async () => {
    const wrong = 'wrong-Secret-42';
    const url = server.url.replace(/:[^:@/]+@/, `:${wrong}@`);
    const err = await open({ url, plan: 'auth' })
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateStoreError);
    expect((err as StateStoreError).message).toMatch(/password authentication failed/);
    expect((err as StateStoreError).message).not.toContain(wrong);
    expect((err as StateStoreError).message).toContain('postgres://rollout:***@127.0.0.1');
  });

  // Last: it stops the server.
  it('reports a stopped database as StateStoreError (exit 6, no password) and works again once it is back', async () => {
    const plan = 'outage';
    const store = open({ plan, connectTimeoutMs: 1_000 });
    await store.save(stateAt(plan, 1), [eventFor(plan, 'before')]);
    await server.stop();
    try {
      for (const attempt of [() => store.load(), () => store.save(stateAt(plan, 2), [eventFor(plan, 'lost')])]) {
        const err = await attempt().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StateStoreError);
        expect((err as StateStoreError).exitCode).toBe(ExitCode.targetFailed);
        const text = `${(err as StateStoreError).message} ${(err as StateStoreError).hint}`;
        expect(text).not.toContain(server.password);
        expect(text).not.toContain(encodeURIComponent(server.password));
        expect(text).toMatch(/PostgreSQL state store postgres:\/\/rollout:\*\*\*@127\.0\.0\.1:\d+\/postgres: (reading|saving) state \(connecting\) failed: /);
      }
    } finally {
      await server.restart();
    }
    expect(await store.load()).toEqual(stateAt(plan, 1));
    await store.save(stateAt(plan, 2), [eventFor(plan, 'after')]);
    expect((await store.history()).map((e) => e.reason)).toEqual(['before', 'after']);
  });
});
