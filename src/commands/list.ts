/**
 * `rollout list`: every rollout kept in a state dir or a PostgreSQL store, for an on-call engineer
 * who meets rollouts something else is driving: name, stage, percent, status, time in stage and
 * who holds the lock. No plan needed: where a rollout recorded its target, the target is read
 * (bounded) to spot drift. Exit code: the worst rollout's, as `status --exit-code` would give it.
 */
import { existsSync } from 'node:fs';
import { listDocument } from '../cli/json-documents.js';
import { renderListTable, type ListedRollout, type ListStatus } from '../cli/list-view.js';
import { ExitCode } from '../errors.js';
import { parseDuration } from '../plan/duration.js';
import { withDeadline } from '../rollout/deadline.js';
import { buildTarget } from '../rollout/open.js';
import { describeLocation, openStoreByLocation, planFromRecord, type NamedRolloutOptions } from '../rollout/recorded-plan.js';
import type { StoredRollout } from '../state/types.js';
import { compareDrift } from '../targets/drift.js';
import type { CommandContext, CommandResult } from '../context.js';

/** `rollout list` options. */
export interface ListOptions extends Omit<NamedRolloutOptions, 'plan'> {
  /** Deadline of each target read (default 5s). */
  callTimeout?: string;
}

const STATUS_EXIT: Record<ListStatus, ExitCode> = {
  'not started': ExitCode.ok,
  baking: ExitCode.ok,
  complete: ExitCode.ok,
  held: ExitCode.held,
  paused: ExitCode.held,
  'rolled back': ExitCode.critical,
  drift: ExitCode.conflict,
  emergency: ExitCode.conflict,
  unreadable: ExitCode.unexpected,
};

// Worst first: the exit code of a listing is that of its worst rollout.
const SEVERITY: ExitCode[] = [ExitCode.conflict, ExitCode.critical, ExitCode.held, ExitCode.unexpected, ExitCode.ok];

const DEFAULT_READ_MS = 5_000;

/** Lists every rollout of the state dir or database. */
export async function listCommand(options: ListOptions, ctx: CommandContext): Promise<CommandResult> {
  const readMs = options.callTimeout ? parseDuration(options.callTimeout) : DEFAULT_READ_MS;
  const where = describeLocation(options, ctx.env);
  const store = await openStoreByLocation('', options, ctx);
  let stored: StoredRollout[];
  try {
    stored = await store.list();
  } finally {
    await store.close();
  }
  const now = ctx.clock.now();
  const rows = await Promise.all(stored.map((r) => describeRollout(r, now, readMs ?? DEFAULT_READ_MS, ctx)));
  const exitCode = SEVERITY.find((code) => rows.some((r) => r.exitCode === code)) ?? ExitCode.ok;
  if (options.json) {
    ctx.out.printJson(listDocument(where, rows, exitCode));
    return { exitCode };
  }
  if (rows.length === 0) {
    // A mistyped --state-dir must not read as an empty store.
    const missing = !options.state && !ctx.env.ROLLOUT_STATE_URL && !existsSync(where) ? ' (the directory does not exist: check --state-dir)' : '';
    ctx.out.print(`no rollouts in ${where}${missing}`);
    return { exitCode };
  }
  ctx.out.print(`rollouts in ${where}\n${renderListTable(rows)}`);
  return { exitCode };
}

/** A rollout's row: its status from state, and drift from its recorded target where it can be read. */
async function describeRollout(r: StoredRollout, now: number, readMs: number, ctx: CommandContext): Promise<ListedRollout> {
  const base = { name: r.name, ...(r.holder ? { lockHolder: r.holder } : {}) };
  const state = r.state;
  if (!state) return { ...base, stage: null, percent: 0, status: 'unreadable', detail: r.problem ?? 'no state', exitCode: STATUS_EXIT.unreadable };
  const started = state.stageIndex >= 0;
  const targetPercent = await readRecordedTarget(r, readMs, ctx);
  const drift = targetPercent === undefined ? undefined : compareDrift(targetPercent, started || state.rolledBack ? state.percent : undefined);
  const [status, detail]: [ListStatus, string | undefined] = state.emergency
    ? ['emergency', `unfinished, by ${state.emergency.by}`]
    : drift?.drift
      ? ['drift', drift.message]
      : state.paused
        ? ['paused', `by ${state.paused.by}: ${state.paused.reason}`]
        : state.rolledBack
          ? ['rolled back', undefined]
          : state.completed
            ? ['complete', undefined]
            : state.holdingSince !== undefined
              ? ['held', state.bakeRestart?.reason]
              : started
                ? ['baking', undefined]
                : ['not started', undefined];
  return {
    ...base,
    stage: started ? state.stageIndex + 1 : null,
    ...(state.stages ? { stages: state.stages.length } : {}),
    percent: state.percent,
    status,
    ...(detail ? { detail } : {}),
    ...(started || state.rolledBack ? { timeInStageMs: Math.max(0, now - state.enteredAt) } : {}),
    ...(targetPercent !== undefined ? { targetPercent } : {}),
    exitCode: STATUS_EXIT[status],
  };
}

/** The target's percentage from the rollout's record; undefined when it cannot be rebuilt, read or answer in time. */
async function readRecordedTarget(r: StoredRollout, readMs: number, ctx: CommandContext): Promise<number | undefined> {
  if (!r.state?.planRecord) return undefined;
  try {
    const plan = await planFromRecord(r.name, r.state, ctx.env);
    const target = await buildTarget(plan.target, ctx);
    return await withDeadline(`reading the target of ${r.name}`, readMs, (signal) => target.read(signal));
  } catch {
    return undefined;
  }
}
