/**
 * The shared state store on PostgreSQL (issue 8), for rollouts driven from several machines.
 * Semantics are the file store's: the same store-contract tests run against both.
 *
 * - Tables are created by versioned migrations, applied under a transaction-scoped advisory lock
 *   so processes starting together never race on CREATE TABLE.
 * - save() is one transaction: a compare-and-set on `version` and the history INSERTs, so state
 *   and history never disagree and two writers can never both advance.
 * - The lock is a lease row (holder, expires_at) refreshed every lease/3 while held; a crashed
 *   runner's lease expires and the lock can be taken. Expiry is judged by the database clock, so
 *   runners with skewed clocks agree.
 * - TLS comes from the connection string (`?sslmode=require`, `sslrootcert=…`); the password is
 *   never part of an error message.
 */
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { RolloutError, StateStoreError } from '../errors.js';
import { processSecrets } from '../plan/secrets.js';
import { describeError, passwordsOf, redactUrl } from './redact-url.js';
import { parseStoredEvent, parseStoredSample, parseStoredState } from './parse-stored.js';
import { COMPACT_AT, compactSamples, type MetricSample } from './samples.js';
import { DEFAULT_LEASE_MS, holdLock, isHolderGone, lockedError, staleWriteError } from './actor.js';
import type { HistoryEvent, Lock, LockHolder, RolloutState, SaveOptions, StateStore, StoredRollout } from './types.js';
import { createPostgresRequests } from './postgres-requests.js';

/** Where the PostgreSQL store keeps one rollout. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/db?sslmode=…` */
  url: string;
  /** The rollout's name, its key in every table. */
  plan: string;
  /** How long a lock stays valid without a refresh. */
  leaseMs?: number;
  /** How long to wait for a connection before reporting the database unreachable. */
  connectTimeoutMs?: number;
}

// Append-only: a released version never changes; the next schema change is a new entry.
const migrations = [
  `CREATE TABLE rollout_state (
     plan text PRIMARY KEY,
     state jsonb NOT NULL,
     version integer NOT NULL,
     updated_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE rollout_history (
     id bigserial PRIMARY KEY,
     plan text NOT NULL,
     event jsonb NOT NULL,
     time timestamptz NOT NULL
   );
   CREATE INDEX rollout_history_plan_id ON rollout_history (plan, id);
   CREATE TABLE rollout_locks (
     plan text PRIMARY KEY,
     holder jsonb NOT NULL,
     expires_at timestamptz NOT NULL
   );`,
  // The poll log (state/samples.ts).
  `CREATE TABLE rollout_samples (
     id bigserial PRIMARY KEY,
     plan text NOT NULL,
     sample jsonb NOT NULL
   );
   CREATE INDEX rollout_samples_plan_id ON rollout_samples (plan, id);`,
  // Requests to a running `run` (issue 17): taken once (taken_at), answered in place, removed as the answer is read.
  `CREATE TABLE rollout_requests (
     id text PRIMARY KEY,
     plan text NOT NULL,
     request jsonb NOT NULL,
     taken_at timestamptz,
     answer jsonb
   );
   CREATE INDEX rollout_requests_plan ON rollout_requests (plan, id) WHERE taken_at IS NULL;`,
];

// Any fixed 64-bit key works; this one is "rollout" in ASCII, unlikely to collide with an app's.
const MIGRATION_LOCK_KEY = '31073203935901812';

// Getting a connection sends nothing, so it is safe to retry for any operation.
const CONNECT_RETRY_DELAYS_MS = [250, 750];

/** Creates the PostgreSQL store for one rollout; connects lazily, on the first operation. */
export function createPostgresStore(options: PostgresStoreOptions): StateStore {
  const { url, plan } = options;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const shownUrl = redactUrl(url);
  // The URL may come from --state or ROLLOUT_STATE_URL rather than the plan: its password is a
  // secret all the same, in every message and file.
  for (const password of passwordsOf(url)) processSecrets.add(password);
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    // A partitioned network must end in an error, never a hang; lock waits here last milliseconds.
    query_timeout: 15_000,
    max: 4,
    idleTimeoutMillis: 10_000,
    // A CLI that forgets close() still exits.
    allowExitOnIdle: true,
    application_name: 'rollout',
  });
  // An idle connection dropped by a restarting server is removed by the pool; without a listener
  // the 'error' it emits would crash the process.
  pool.on('error', () => undefined);
  const refreshes = new Set<() => void>();
  let migrated: Promise<void> | undefined;
  let closed: Promise<void> | undefined;

  function storeError(err: unknown, doing: string): StateStoreError {
    return new StateStoreError(
      `PostgreSQL state store ${shownUrl}: ${doing} failed: ${processSecrets.redact(describeError(err))}`,
      'check that the database is running and reachable from here, and the URL (state.url, --state or ROLLOUT_STATE_URL)',
    );
  }

  async function connect(): Promise<pg.PoolClient> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await pool.connect();
      } catch (err) {
        const delay = CONNECT_RETRY_DELAYS_MS[attempt];
        // The server answering (e.g. a wrong password) is not a blip that a retry could outlast.
        if (delay === undefined || err instanceof pg.DatabaseError) throw err;
        await sleep(delay);
      }
    }
  }

  /** Runs `work` on one connection; a failed connection is destroyed rather than reused. */
  async function withClient<T>(doing: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await connect();
    } catch (err) {
      throw storeError(err, `${doing} (connecting)`);
    }
    try {
      const result = await work(client);
      client.release();
      return result;
    } catch (err) {
      client.release(err instanceof RolloutError ? undefined : (err as Error));
      throw err instanceof RolloutError ? err : storeError(err, doing);
    }
  }

  /** Runs `work` in a transaction, rolled back when it throws (also for a lost compare-and-set). */
  async function inTransaction<T>(client: pg.PoolClient, work: () => Promise<T>): Promise<T> {
    await client.query('BEGIN');
    try {
      const result = await work();
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async function migrate(client: pg.PoolClient): Promise<void> {
    await inTransaction(client, async () => {
      await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      await client.query(
        'CREATE TABLE IF NOT EXISTS rollout_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const { rows } = await client.query<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM rollout_migrations');
      const current = rows[0]?.v ?? 0;
      if (current > migrations.length) {
        throw new StateStoreError(
          `PostgreSQL state store ${shownUrl}: its schema is version ${current}, newer than this rollout knows (${migrations.length})`,
          'upgrade rollout to the version the rest of the team uses',
        );
      }
      for (const [i, sql] of migrations.entries()) {
        if (i < current) continue;
        await client.query(sql);
        await client.query('INSERT INTO rollout_migrations (version) VALUES ($1)', [i + 1]);
      }
    });
  }

  /** Like withClient, after making sure the tables exist (once per store; retried after a failure). */
  async function run<T>(doing: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    // Labelled with the first operation: to the user, the tables are part of what it needed.
    migrated ??= withClient(doing, migrate).catch((err: unknown) => {
      migrated = undefined;
      throw err;
    });
    await migrated;
    return withClient(doing, work);
  }

  async function insertEvents(client: pg.PoolClient, events: HistoryEvent[]): Promise<void> {
    for (const event of processSecrets.redactDeep(events)) {
      await client.query('INSERT INTO rollout_history (plan, event, time) VALUES ($1, $2::jsonb, $3::timestamptz)', [
        plan,
        JSON.stringify(event),
        event.time,
      ]);
    }
  }

  async function insertSamples(client: pg.PoolClient, samples: MetricSample[]): Promise<void> {
    // One statement for the batch: a compaction rewrites thousands.
    await client.query('INSERT INTO rollout_samples (plan, sample) SELECT $1, s FROM unnest($2::jsonb[]) WITH ORDINALITY AS t(s, n) ORDER BY n', [
      plan,
      processSecrets.redactDeep(samples).map((s) => JSON.stringify(s)),
    ]);
  }

  async function selectSamples(client: pg.PoolClient): Promise<MetricSample[]> {
    const { rows } = await client.query<{ sample: unknown }>('SELECT sample FROM rollout_samples WHERE plan = $1 ORDER BY id', [plan]);
    return (await Promise.all(rows.map((row) => parseStoredSample(row.sample)))).flatMap((sample) => sample ?? []);
  }

  const where = `the rollout_state row of ${plan}`;
  const aside = `delete it (DELETE FROM rollout_state WHERE plan = '${plan}')`;
  /** A lock row's holder, unless its lease expired or its process is known to be gone. */
  const liveHolder = (row: { holder: LockHolder | null; expired: boolean | null } | undefined) =>
    row?.holder && !row.expired && !isHolderGone(row.holder) ? row.holder : undefined;

  return {
    load: () =>
      run('reading state', async (client) => {
        const { rows } = await client.query<{ state: unknown; version: number }>(
          'SELECT state, version FROM rollout_state WHERE plan = $1',
          [plan],
        );
        const row = rows[0];
        if (!row) return undefined;
        // The column is what the compare-and-set guards, so it wins over the copy in the JSON.
        return { ...(await parseStoredState(row.state, where, aside)), version: row.version };
      }),

    save: (next: RolloutState, events: HistoryEvent[], saveOptions: SaveOptions = {}) =>
      run('saving state', (client) =>
        inTransaction(client, async () => {
          const params = [plan, JSON.stringify(processSecrets.redactDeep(next)), next.version];
          const result = saveOptions.force
            ? await client.query(
                `INSERT INTO rollout_state (plan, state, version) VALUES ($1, $2::jsonb, $3)
                 ON CONFLICT (plan) DO UPDATE SET
                   version = greatest(EXCLUDED.version, rollout_state.version + 1),
                   state = jsonb_set(EXCLUDED.state, '{version}', to_jsonb(greatest(EXCLUDED.version, rollout_state.version + 1))),
                   updated_at = now()`,
                params,
              )
            : next.version === 1
              ? await client.query(
                  'INSERT INTO rollout_state (plan, state, version) VALUES ($1, $2::jsonb, $3) ON CONFLICT (plan) DO NOTHING',
                  params,
                )
              : await client.query(
                  'UPDATE rollout_state SET state = $2::jsonb, version = $3, updated_at = now() WHERE plan = $1 AND version = $3 - 1',
                  params,
                );
          if (result.rowCount !== 1) throw staleWriteError(plan, next.version);
          await insertEvents(client, events);
        }),
      ),

    append: (events: HistoryEvent[]) =>
      run('appending history', (client) => inTransaction(client, () => insertEvents(client, events))),

    history: () =>
      run('reading history', async (client) => {
        const { rows } = await client.query<{ id: string; event: unknown }>(
          'SELECT id, event FROM rollout_history WHERE plan = $1 ORDER BY id',
          [plan],
        );
        // In order: the first damaged row is the one reported.
        const events: HistoryEvent[] = [];
        for (const row of rows) {
          events.push(await parseStoredEvent(row.event, `rollout_history row ${row.id}`, `delete it (DELETE FROM rollout_history WHERE id = ${row.id})`));
        }
        return events;
      }),

    appendSamples: (samples: MetricSample[]) =>
      run('appending samples', (client) =>
        inTransaction(client, async () => {
          if (samples.length === 0) return;
          // Appends and compactions of one rollout take turns, so a compaction loses no append.
          await client.query("SELECT pg_advisory_xact_lock(hashtext('rollout_samples:' || $1))", [plan]);
          await insertSamples(client, samples);
          const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM rollout_samples WHERE plan = $1', [plan]);
          if ((rows[0]?.n ?? 0) < COMPACT_AT) return;
          const compacted = compactSamples(await selectSamples(client));
          await client.query('DELETE FROM rollout_samples WHERE plan = $1', [plan]);
          await insertSamples(client, compacted);
        }),
      ),

    samples: () => run('reading samples', selectSamples),

    lock: async (holder: LockHolder, lockOptions: { takeOver?: boolean } = {}): Promise<Lock> => {
      const params = [plan, JSON.stringify(holder), leaseMs];
      const tookOverFrom = await run('taking the lock', (client) =>
        inTransaction(client, async () => {
          // Each round inserts, or locks the existing row; a row released in between means another round.
          for (let round = 0; round < 10; round++) {
            const inserted = await client.query(
              `INSERT INTO rollout_locks (plan, holder, expires_at) VALUES ($1, $2::jsonb, now() + $3 * interval '1 millisecond')
               ON CONFLICT (plan) DO NOTHING`,
              params,
            );
            if (inserted.rowCount === 1) return undefined;
            const { rows } = await client.query<{ holder: LockHolder; expired: boolean }>(
              'SELECT holder, expires_at <= now() AS expired FROM rollout_locks WHERE plan = $1 FOR UPDATE',
              [plan],
            );
            const current = rows[0];
            if (!current) continue;
            const stale = current.expired || isHolderGone(current.holder);
            if (!stale && !lockOptions.takeOver) throw lockedError(current.holder);
            await client.query(
              `UPDATE rollout_locks SET holder = $2::jsonb, expires_at = now() + $3 * interval '1 millisecond' WHERE plan = $1`,
              params,
            );
            return stale ? undefined : current.holder;
          }
          throw new StateStoreError(`PostgreSQL state store ${shownUrl}: the lock of ${plan} kept changing hands`, 'try again');
        }),
      );
      return holdLock({ holder, tookOverFrom, leaseMs, refreshes,
        refresh: async () => {
          await pool.query(
            `UPDATE rollout_locks SET expires_at = now() + $3 * interval '1 millisecond' WHERE plan = $1 AND holder = $2::jsonb`,
            params,
          );
        },
        // Only our own lease: after a takeover the row belongs to someone else.
        remove: async () => {
          await run('releasing the lock', (client) =>
            client.query('DELETE FROM rollout_locks WHERE plan = $1 AND holder = $2::jsonb', params.slice(0, 2)),
          );
        },
      });
    },

    holder: () =>
      run('reading the lock', async (client) => {
        const { rows } = await client.query<{ holder: LockHolder; expired: boolean }>(
          'SELECT holder, expires_at <= now() AS expired FROM rollout_locks WHERE plan = $1',
          [plan],
        );
        return liveHolder(rows[0]);
      }),

    list: () =>
      run('listing rollouts', async (client) => {
        const { rows } = await client.query<{ plan: string; state: unknown; version: number; holder: LockHolder | null; expired: boolean | null }>(
          `SELECT s.plan, s.state, s.version, l.holder, l.expires_at <= now() AS expired
           FROM rollout_state s LEFT JOIN rollout_locks l ON l.plan = s.plan ORDER BY s.plan`,
        );
        return Promise.all(rows.map(async (row): Promise<StoredRollout> => {
          const holder = liveHolder(row);
          const base = { name: row.plan, ...(holder ? { holder } : {}) };
          try {
            const rowAside = `delete it (DELETE FROM rollout_state WHERE plan = '${row.plan}')`;
            return { ...base, state: { ...(await parseStoredState(row.state, `the rollout_state row of ${row.plan}`, rowAside)), version: row.version } };
          } catch (err) {
            return { ...base, problem: (err as Error).message };
          }
        }));
      }),

    ...createPostgresRequests(plan, run),

    close() {
      for (const stop of refreshes) stop();
      refreshes.clear();
      closed ??= pool.end();
      return closed;
    },
  };
}
