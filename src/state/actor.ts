/**
 * Who is acting (SPEC §3: `$ROLLOUT_ACTOR`, else the CI job, else user@host) and who holds a
 * rollout's lock: the identity, liveness, conflict messages and held-lock handle that every store
 * shares.
 */
import { hostname, userInfo } from 'node:os';
import { systemClock, type Clock } from '../clock.js';
import { ConflictError } from '../errors.js';
import { isPidGone } from '../orphans.js';
import { formatTime } from '../time.js';
import type { Lock, LockHolder } from './types.js';

type Env = Record<string, string | undefined>;

/** How one CI names the job that runs a command; `when` is the variable the CI always sets. */
interface CiActor {
  when: string;
  name: (env: Env) => string;
}

/** Joins the parts a CI provided, dropping the ones it did not. */
function join(prefix: string, user: string | undefined, job: string | undefined, id: string | undefined): string {
  const where = [job, id && `#${id}`].filter(Boolean).join('');
  return `${prefix}:${[user, where].filter(Boolean).join(' ') || 'unknown'}`;
}

// Each entry names the person who triggered the job (when the CI knows) and the job itself, so an
// event in history leads back to both the human and the CI log.
const ciActors: CiActor[] = [
  {
    when: 'GITHUB_ACTIONS',
    name: (e) =>
      join('github', e.GITHUB_ACTOR, [e.GITHUB_WORKFLOW, e.GITHUB_JOB].filter(Boolean).join('/'), e.GITHUB_RUN_ID),
  },
  { when: 'GITLAB_CI', name: (e) => join('gitlab', e.GITLAB_USER_LOGIN, e.CI_JOB_NAME, e.CI_JOB_ID) },
  { when: 'CIRCLECI', name: (e) => join('circleci', e.CIRCLE_USERNAME, e.CIRCLE_JOB, e.CIRCLE_BUILD_NUM) },
  {
    when: 'BUILDKITE',
    name: (e) => join('buildkite', e.BUILDKITE_BUILD_CREATOR, e.BUILDKITE_PIPELINE_SLUG, e.BUILDKITE_BUILD_NUMBER),
  },
  { when: 'TF_BUILD', name: (e) => join('azure', e.BUILD_REQUESTEDFOR, e.BUILD_DEFINITIONNAME, e.BUILD_BUILDID) },
  { when: 'JENKINS_URL', name: (e) => join('jenkins', e.BUILD_USER_ID, e.JOB_NAME, e.BUILD_NUMBER) },
];

/** The login name, without throwing where the uid has no passwd entry (common in containers). */
function userName(env: Env): string {
  const fromEnv = env.USER || env.LOGNAME || env.USERNAME;
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The actor recorded in history: `$ROLLOUT_ACTOR`, else the CI job, else user@host. */
export function detectActor(env: Env = process.env): string {
  const explicit = env.ROLLOUT_ACTOR?.trim();
  if (explicit) return explicit;
  const ci = ciActors.find((c) => env[c.when]);
  if (ci) return ci.name(env);
  const local = `${userName(env)}@${hostname()}`;
  // A CI we do not know still says it is one; mark it so the event is not mistaken for a person.
  return env.CI && env.CI !== 'false' && env.CI !== '0' ? `ci:${local}` : local;
}

/** The holder this process records when it takes a rollout's lock for `command`. */
export function lockHolder(command: string, env: Env = process.env, clock: Clock = systemClock): LockHolder {
  return {
    actor: detectActor(env),
    pid: process.pid,
    host: hostname(),
    since: new Date(clock.now()).toISOString(),
    command,
  };
}

/**
 * True when the holder's process is known to be gone: it ran on this host and its pid no longer
 * exists. Holders on other hosts cannot be checked; their lease decides.
 */
export function isHolderGone(holder: LockHolder): boolean {
  return holder.host === hostname() && isPidGone(holder.pid);
}

/** Who holds the lock and since when, the time as human output shows it (local with zone, or UTC). */
function lockedMessage(holder: LockHolder, utc: boolean): string {
  return `locked by ${holder.actor} (pid ${holder.pid} on ${holder.host}, ${holder.command}, since ${formatTime(holder.since, utc)})`;
}

/** A lock held by someone else (exit 5); `holder` says who, so a command can ask a running `run` instead. */
export class LockedError extends ConflictError {
  constructor(readonly holder: LockHolder) {
    super(lockedMessage(holder, false), 'wait for it to finish, or use rollback --emergency');
  }

  override inUtc(): string {
    return lockedMessage(this.holder, true);
  }
}

/** The exit-5 error for a lock held by someone else, naming them and what they run. */
export function lockedError(holder: LockHolder): ConflictError {
  return new LockedError(holder);
}

/** The exit-5 error for a save whose compare-and-set lost: another command wrote first. */
export function staleWriteError(plan: string, version: number): ConflictError {
  return new ConflictError(
    `the state of ${plan} changed since this command read it: another command saved first (version ${version} refused)`,
    'run the command again; it will read the new state',
  );
}

/** How long a lock stays valid without a refresh; holders refresh it every third of this. */
export const DEFAULT_LEASE_MS = 60_000;

/** What a store supplies to hand out a held lock. */
export interface HeldLockParts {
  holder: LockHolder;
  tookOverFrom: LockHolder | undefined;
  leaseMs: number;
  /** Extends the lease; called every lease/3 while held. */
  refresh: () => Promise<void>;
  /** Removes the lock if it is still this holder's. */
  remove: () => Promise<void>;
  /** The store's running refreshes, so close() can stop them. */
  refreshes: Set<() => void>;
}

/**
 * The Lock a command holds. Its lease refresh is unref'd, so a held lock never keeps the process
 * alive; a failed refresh is ignored (the next may succeed, and if none does the lease expires,
 * which is what a lease is for). release() runs once, however often it is called.
 */
export function holdLock(parts: HeldLockParts): Lock {
  const { holder, tookOverFrom, leaseMs, refreshes } = parts;
  const timer = setInterval(() => parts.refresh().catch(() => undefined), Math.max(1, Math.floor(leaseMs / 3)));
  timer.unref();
  const stop = () => clearInterval(timer);
  refreshes.add(stop);
  let released: Promise<void> | undefined;
  return {
    holder,
    ...(tookOverFrom ? { tookOverFrom } : {}),
    release() {
      released ??= (async () => {
        stop();
        refreshes.delete(stop);
        await parts.remove();
      })();
      return released;
    },
  };
}
