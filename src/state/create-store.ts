/** Picks the state store for a rollout: PostgreSQL when a postgres:// URL is given, else files. */
import { UsageError } from '../errors.js';
import type { StateStore } from './types.js';

/** What decides the store: the plan's `state` block, `--state`, `--state-dir` and the environment. */
export interface CreateStoreOptions {
  /** The plan's `state.backend` (`file` unless the plan says otherwise). */
  backend: 'file' | 'postgres';
  /** `state.url` or `--state`; a `postgres://` URL selects PostgreSQL whatever `backend` says. */
  url?: string;
  /** The file store's directory; unused by PostgreSQL. */
  dir: string;
  /** The rollout's name. */
  plan: string;
  /** Read for `ROLLOUT_STATE_URL` and `ROLLOUT_LOCK_LEASE_MS`; defaults to process.env. */
  env?: Record<string, string | undefined>;
}

/**
 * `ROLLOUT_LOCK_LEASE_MS`: how long a lock outlives a holder that stopped refreshing it (default
 * DEFAULT_LEASE_MS, one minute). Only a holder on another host needs the lease to expire, since a
 * dead holder on this host is detected at once; a shorter lease lets CI take over sooner from a
 * crashed runner. The lease is the holder's: a runner writes its own into the lock it takes.
 */
function leaseFrom(env: Record<string, string | undefined>): number | undefined {
  const raw = env.ROLLOUT_LOCK_LEASE_MS?.trim();
  if (!raw) return undefined;
  const ms = Number(raw);
  // Holders refresh every lease/3: below a second that is a database write every few milliseconds.
  if (!Number.isInteger(ms) || ms < 1000) {
    throw new UsageError(
      `ROLLOUT_LOCK_LEASE_MS=${raw} is not a whole number of milliseconds of at least 1000`,
      'e.g. ROLLOUT_LOCK_LEASE_MS=30000, or unset it for the default of one minute',
    );
  }
  return ms;
}

const postgresScheme = /^postgres(ql)?:\/\//i;

/**
 * Creates the store. `ROLLOUT_STATE_URL` applies when no URL is given, so CI runners can share a
 * database without editing the plan; `ROLLOUT_LOCK_LEASE_MS` sets the lock lease (see leaseFrom).
 * Each backend is imported only when chosen, so a file-backed command never loads the PostgreSQL
 * driver.
 */
export async function createStore(options: CreateStoreOptions): Promise<StateStore> {
  const env = options.env ?? process.env;
  const url = options.url || env.ROLLOUT_STATE_URL || undefined;
  const leaseMs = leaseFrom(env);
  if (url !== undefined && !postgresScheme.test(url)) {
    // Only the scheme: the rest of a URL may hold a password.
    throw new UsageError(
      `unsupported state URL scheme "${url.split(':')[0]}:"`,
      'use a postgres:// URL, or leave it out to keep state in files (--state-dir)',
    );
  }
  if (url) {
    const { createPostgresStore } = await import('./postgres-store.js');
    return createPostgresStore({ url, plan: options.plan, leaseMs });
  }
  if (options.backend === 'postgres') {
    throw new UsageError(
      'state.backend is postgres but no database URL is given',
      'set state.url in the plan, pass --state postgres://…, or set ROLLOUT_STATE_URL',
    );
  }
  const { createFileStore } = await import('./file-store.js');
  return createFileStore({ dir: options.dir, plan: options.plan, leaseMs });
}
