/**
 * The emergency without the plan (issue 17): an on-call engineer on a machine without the plan's
 * checkout, or with a plan that no longer parses, still rolls back. Every write records the plan's
 * target section as written (with `${VAR}` un-interpolated), its notify section, path and hash in
 * state (transitions.ts `withPlanRecord`); here the plan is rebuilt from that record, reading each
 * `${VAR}` from the environment now, through the same loader, so its values become secrets.
 */
import { readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import type { CommandContext } from '../context.js';
import { PlanError, UsageError } from '../errors.js';
import { interpolate, type InterpolationReport } from '../plan/interpolate.js';
import { MAX_PLAN_BYTES, parsePlan } from '../plan/load-plan.js';
import { Secrets } from '../plan/secrets.js';
import type { Plan } from '../plan/types.js';
import { createStore } from '../state/create-store.js';
import { redactUrl } from '../state/redact-url.js';
import type { RolloutState, StateStore } from '../state/types.js';
import { withDeadline } from './deadline.js';
import { openStore, type StateOptions } from './open.js';
import { loadPlanForCommand } from './plan.js';

/** Where a rollout named on the command line is kept: `--state`/ROLLOUT_STATE_URL, else `--state-dir`, else `./.rollout`. */
export interface NamedRolloutOptions extends StateOptions {
  /** The rollout's name (`--name`), instead of its plan. */
  name?: string;
}

/** A plan to roll back with, and how to open its store. */
export interface EmergencyPlan {
  plan: Plan;
  openStore: () => Promise<StateStore>;
}

/** Opens the store holding rollout `name` (`''` for a store opened only to list), by the options alone. */
export function openStoreByLocation(name: string, options: Pick<NamedRolloutOptions, 'state' | 'stateDir'>, ctx: Pick<CommandContext, 'env' | 'world'>, planDir = '.'): Promise<StateStore> {
  const open = ctx.world?.createStore ?? createStore;
  return open({ backend: 'file', url: options.state, dir: resolve(options.stateDir ?? join(planDir, '.rollout')), plan: name, env: ctx.env });
}

/** The location in words, for messages (a database URL without its password). */
export function describeLocation(options: Pick<NamedRolloutOptions, 'state' | 'stateDir'>, env: NodeJS.ProcessEnv, planDir = '.'): string {
  const url = options.state || env.ROLLOUT_STATE_URL;
  return url ? redactUrl(url) : resolve(options.stateDir ?? join(planDir, '.rollout'));
}

/**
 * The plan for `rollback --emergency`: by `--name` from the recorded state; else the plan file;
 * and when that does not load, the rollout whose record names that file, with a warning.
 */
export async function planForEmergency(options: NamedRolloutOptions, ctx: CommandContext, storeMs: number): Promise<EmergencyPlan> {
  if (options.name) return recordedPlan(options.name, options, ctx, storeMs);
  let failure: PlanError;
  try {
    const plan = await loadPlanForCommand(options.plan, ctx);
    return { plan, openStore: () => openStore(plan, options, ctx) };
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    failure = err;
  }
  const file = resolve(options.plan);
  const name = await withDeadline('state store', storeMs, async () => {
    const store = await openStoreByLocation('', options, ctx, dirname(file));
    try {
      const found = (await store.list()).filter((r) => r.state?.planRecord?.file === file);
      return found.length === 1 ? found[0]?.name : undefined;
    } finally {
      await store.close();
    }
  }).catch(() => undefined);
  if (!name) throw failure;
  ctx.out.error(`warning: the plan does not load (${failure.problems[0]?.message ?? 'invalid'}); rolling back ${name} with the target recorded in its state`);
  return recordedPlan(name, options, ctx, storeMs, dirname(file));
}

/** Loads rollout `name`'s state and rebuilds its plan from the record; a clear error when there is none. */
async function recordedPlan(name: string, options: NamedRolloutOptions, ctx: CommandContext, storeMs: number, planDir = '.'): Promise<EmergencyPlan> {
  const open = () => openStoreByLocation(name, options, ctx, planDir);
  const where = describeLocation(options, ctx.env, planDir);
  const state = await withDeadline(`the state store (${where})`, storeMs, async () => {
    const store = await open();
    try {
      return await store.load();
    } finally {
      await store.close();
    }
  });
  if (!state) {
    throw new UsageError(`no rollout named ${name} in ${where}`, '`rollout list` (with the same --state-dir or --state) shows the rollouts kept there');
  }
  const plan = await planFromRecord(name, state, ctx.env, (warning) => ctx.out.error(`warning: ${warning}`));
  ctx.out.error(`note: ${describeRecord(plan.record)}`);
  return { plan, openStore: open };
}

/**
 * Rebuilds a plan (target, notify, stages) from `state`'s record, reading `${VAR}` from `env` now.
 * Only the target is needed to roll back: a receiver whose variables are unset is left out, with a
 * warning, rather than stopping the emergency.
 */
export async function planFromRecord(name: string, state: RolloutState, env: NodeJS.ProcessEnv, warn: (message: string) => void = () => undefined): Promise<Plan> {
  const record = state.planRecord;
  if (!record) {
    throw new UsageError(
      `the state of ${name} records no target (it was last written by an older rollout)`,
      'run the emergency with its plan: `rollout rollback --emergency path/to/plan.yaml`, or set the target to 0 by hand',
    );
  }
  const receivers: unknown[] = Array.isArray(record.notify) ? record.notify : [];
  const notify = receivers.filter((receiver) => {
    const unset = unsetVariables(receiver, env);
    if (unset.length > 0) warn(`not notifying ${describeReceiver(receiver)}: ${unset.map((v) => `\${${v}}`).join(', ')} not set`);
    return unset.length === 0;
  });
  const text = JSON.stringify({ version: 1, name, stages: validStages(state.stages), target: record.target, ...(notify.length > 0 ? { notify } : {}) });
  try {
    return { ...(await parsePlan(text, record.file, { env })), record };
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    throw new UsageError(
      `the target recorded for ${name} cannot be rebuilt: ${[...new Set(err.problems.map((p) => p.message))].join('; ')}`,
      'export the variables it names and run the emergency again, or set the target to 0 by hand',
    );
  }
}

/** The names of the `${VAR}`s in `value` that `env` does not set (read with a scratch store of secrets). */
function unsetVariables(value: unknown, env: NodeJS.ProcessEnv): string[] {
  const report: InterpolationReport = { unset: [], tooShort: [] };
  interpolate(value, env, new Secrets(), report);
  return [...new Set(report.unset.map((u) => u.name))];
}

/** A receiver by its type, never by its URL (which may hold a secret). */
function describeReceiver(receiver: unknown): string {
  const type = receiver !== null && typeof receiver === 'object' && 'type' in receiver ? String(receiver.type) : 'a receiver';
  return `the ${type} receiver`;
}

/** The recorded stages when they still form a plan's stages, else one stage at 100 %. */
function validStages(stages: number[] | undefined): number[] {
  return stages && stages.length > 0 && stages.at(-1) === 100 && stages.every((p, i) => i === 0 || p > (stages[i - 1] ?? 0)) ? stages : [100];
}

/** Which plan the record came from, and whether that file is still there as it was. */
function describeRecord(record: Plan['record']): string {
  if (!record) return 'no record';
  let now = 'which is gone now';
  // Only a regular file of plan size is read: a FIFO in its place must not block the emergency.
  const info = statSync(record.file, { throwIfNoEntry: false });
  if (info?.isFile() && info.size <= MAX_PLAN_BYTES) {
    const sha = createHash('sha256').update(readFileSync(record.file)).digest('hex');
    now = sha === record.sha256 ? 'unchanged since' : 'which has changed since';
  }
  return `rolling back with the target recorded from ${record.file} (sha256 ${record.sha256.slice(0, 12)}…, ${now})`;
}
