/**
 * The `postgres` source type: a SQL query on the application's own PostgreSQL (Supabase and the
 * like) returning one number. Validating a plan reads the query's text only (sources/sql-text.ts);
 * the driver is loaded when metrics are first read.
 */
import { resolve } from 'node:path';
import type { PostgresSourceConfig } from '../postgres.js';
import { readSqlShape, WINDOW_PARAMETER } from '../sql-text.js';
import { defineSourceKind } from './kind.js';
import type { postgresSchema } from './postgres-schema.js';

/** The `postgres` source type. */
export const postgresKind = defineSourceKind<typeof postgresSchema, PostgresSourceConfig>({
  type: 'postgres',
  description: 'SQL queries on a PostgreSQL database (e.g. the application\'s own, on Supabase), read-only.',
  schema: async () => (await import('./postgres-schema.js')).postgresSchema,
  query: {
    field: 'sql',
    description: 'SQL query returning one row with one number; $1 is the window as an interval, e.g. created_at > now() - $1::interval',
    takesWindow: true,
    check(text) {
      const shape = readSqlShape(text);
      return shape.ok ? undefined : { message: shape.reason, hint: shape.hint };
    },
    // $1 is the poll interval for comparisons (they take no window): a count without it counts more than the last poll.
    checkCount(text) {
      const shape = readSqlShape(text);
      if (!shape.ok || shape.parameters.includes(WINDOW_PARAMETER)) return undefined;
      return {
        message: 'the count does not use $1, the time since the previous poll: events would be counted more than once',
        hint: 'count since the previous poll, e.g. SELECT count(*) FROM orders WHERE failed AND created_at > now() - $1::interval',
      };
    },
  },
  build(raw, dir) {
    const ssl = raw.ssl;
    if (typeof ssl !== 'object') return { url: raw.url, ssl };
    const file = (path: string | undefined) => path && resolve(dir, path);
    return { url: raw.url, ssl: { ...ssl, ca: file(ssl.ca), cert: file(ssl.cert), key: file(ssl.key) } };
  },
  create: async (config, context) => (await import('../postgres.js')).createPostgresSource(config, context),
});
