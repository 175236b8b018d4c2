/**
 * The `postgres` source: each metric is a SQL query returning one row with one number. Safe by
 * construction, whatever the query says:
 *
 * - it runs in a READ ONLY transaction that is always rolled back, so nothing it does (a write, a
 *   SET) outlives it, with `statement_timeout` set to the source's timeout;
 * - it is sent with the extended protocol, which takes exactly one statement, so text that slips
 *   past validation's tokenizer cannot end the transaction and run another;
 * - a read given up (at the poll's deadline, or on Ctrl-C) closes its connection rather than
 *   returning it to the pool; the server's statement_timeout stops the query there too.
 *
 * All metrics of a source share one small pool, ended at exit (src/shutdown.ts). The window is
 * given as $1, an interval text such as '300 seconds'.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { processSecrets } from '../plan/secrets.js';
import type { SourceConfig } from '../plan/types.js';
import { onShutdown } from '../shutdown.js';
import { describeError, passwordsOf } from '../state/redact-url.js';
import type { SourceContext } from './kinds/kind.js';
import { NoDataError, type MetricSource } from './source.js';
import { readSqlShape, WINDOW_PARAMETER } from './sql-text.js';

/** TLS as `pg` takes it, except that `ca`, `cert` and `key` are files (resolved against the plan). */
export interface PostgresTls {
  rejectUnauthorized?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
}

/** A PostgreSQL database read by SQL queries. */
export interface PostgresSourceConfig extends SourceConfig {
  /** `postgres://user:password@host:port/db?sslmode=…`, usually from `${VAR}`. */
  url: string;
  /** `true`: TLS with the system's CAs; `false`: none; an object: pg's TLS options. Unset: as the URL says. */
  ssl?: boolean | PostgresTls;
}

// Metrics of a poll read in parallel; a few connections serve them without burdening the app's database.
const POOL_SIZE = 3;

// SQLSTATEs with a reason of their own.
const READ_ONLY_VIOLATION = '25006';
const QUERY_CANCELED = '57014';

const NUMERIC_TYPES = new Set([pg.types.builtins.INT2, pg.types.builtins.INT4, pg.types.builtins.INT8, pg.types.builtins.FLOAT4, pg.types.builtins.FLOAT8, pg.types.builtins.NUMERIC]);

/** A source reading numbers by SQL from one PostgreSQL database, over a pool it opens on the first read. */
export function createPostgresSource(config: PostgresSourceConfig, context: Pick<SourceContext, 'intervalMs'>): MetricSource {
  // The URL came whole from ${VAR}; its password alone (e.g. in a driver's message) is as secret.
  for (const password of passwordsOf(config.url)) processSecrets.add(password);
  let pool: Promise<pg.Pool> | undefined;
  const poolOnce = () => {
    pool ??= openPool(config).catch((err: unknown) => {
      pool = undefined; // a missing certificate file may be put in place before the next poll
      throw err;
    });
    return pool;
  };
  return {
    async measure(query, signal, windowMs = context.intervalMs) {
      const shape = readSqlShape(query);
      if (!shape.ok) throw new NoDataError(`${shape.reason}: ${shape.hint}`);
      const values = shape.parameters.includes(WINDOW_PARAMETER) ? [`${windowMs / 1000} seconds`] : [];
      const client = await connect(await poolOnce());
      if (signal.aborted) {
        client.release();
        throw signal.reason;
      }
      return numberOf(await readOnly(client, { text: query, values }, config.timeoutMs, signal));
    },
  };
}

async function openPool(config: PostgresSourceConfig): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: config.url,
    ssl: typeof config.ssl === 'object' ? await readTlsFiles(config.ssl) : config.ssl,
    max: POOL_SIZE,
    connectionTimeoutMillis: config.timeoutMs,
    idleTimeoutMillis: 10_000,
    // A process that never reaches shutdown() still exits.
    allowExitOnIdle: true,
    application_name: 'rollout',
  });
  // An idle connection dropped by a restarting server is removed by the pool; unheard, its 'error' would crash the process.
  pool.on('error', () => undefined);
  onShutdown(() => pool.end());
  return pool;
}

async function readTlsFiles(tls: PostgresTls): Promise<PostgresTls> {
  const read = async (key: 'ca' | 'cert' | 'key') => {
    const path = tls[key];
    if (path === undefined) return undefined;
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new NoDataError(`cannot read ssl.${key} ${path}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`);
    }
  };
  return { ...tls, ca: await read('ca'), cert: await read('cert'), key: await read('key') };
}

async function connect(pool: pg.Pool): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (err) {
    throw new NoDataError(`cannot connect to the database: ${describeError(err)}`);
  }
}

/** A query as pg takes it; `queryMode` is missing from its types. */
interface ExtendedQuery extends pg.QueryArrayConfig {
  queryMode: 'extended';
}

async function readOnly(client: pg.PoolClient, query: { text: string; values: string[] }, timeoutMs: number, signal: AbortSignal): Promise<pg.QueryArrayResult> {
  let released = false;
  // A connection in an unknown state (an error, an abandoned query) is closed, never reused.
  const release = (err?: Error) => {
    if (released) return;
    released = true;
    client.release(err);
  };
  const abandon = () => release(new Error('read abandoned at its deadline'));
  signal.addEventListener('abort', abandon, { once: true });
  try {
    await client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${Math.ceil(timeoutMs)}`);
    const extended: ExtendedQuery = { ...query, rowMode: 'array', queryMode: 'extended' };
    const result = await client.query(extended);
    await client.query('ROLLBACK');
    release();
    return result;
  } catch (err) {
    release(err as Error);
    throw new NoDataError(queryFailure(err, timeoutMs));
  } finally {
    signal.removeEventListener('abort', abandon);
  }
}

function queryFailure(err: unknown, timeoutMs: number): string {
  const code = (err as { code?: unknown }).code;
  const message = describeError(err);
  if (code === READ_ONLY_VIOLATION) return `refused, the query would write: ${message}; a source only reads`;
  if (code === QUERY_CANCELED) return `the query ran past the source's timeout of ${timeoutMs} ms and was cancelled: ${message}`;
  return `the query failed: ${message}`;
}

/** The one number a result holds; anything else is no data, with what was there instead. */
function numberOf(result: pg.QueryArrayResult): number {
  const { fields, rows } = result;
  if (fields.length !== 1) throw new NoDataError(`the query returned ${fields.length} columns; it must return one number`);
  if (rows.length !== 1) throw new NoDataError(rows.length === 0 ? 'the query returned no row' : `the query returned ${rows.length} rows; it must return one`);
  const [field] = fields as [pg.FieldDef];
  const value = (rows[0] as unknown[])[0];
  if (value === null) throw new NoDataError(`the query returned NULL (${field.name})`);
  if (!NUMERIC_TYPES.has(field.dataTypeID)) throw new NoDataError(`the query returned ${typeName(field.dataTypeID)} (${field.name}), not a number`);
  const number = Number(value);
  if (!Number.isFinite(number)) throw new NoDataError(`the query returned ${String(value)} (${field.name}), not a finite number`);
  return number;
}

function typeName(oid: number): string {
  const name = Object.entries(pg.types.builtins).find(([, id]) => id === oid)?.[0];
  return name ? `a ${name.toLowerCase()} value` : `a value of type oid ${oid}`;
}
