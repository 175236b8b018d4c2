/**
 * The commit path: the only code that moves a target and records it, so that target and state
 * never disagree: check the store, apply, then record; if recording fails, the target is put back.
 *
 * Fencing. Every write is a compare-and-set on the state's version, checked before the target is
 * touched and again by the save after it. `rollback --emergency` (emergency.ts) takes the lock
 * over and writes a fence (`state.emergency`, a new version) before it reads the target back. So a
 * former holder whose target write was in flight finds, at its save, a version it did not write:
 * its save fails, and its own write is put back to what the fence wants (0 %), never left standing
 * nor re-applied over the emergency. It then stops with exit 5 saying who took over. Writes of
 * `command` targets are recorded while in flight (targets/in-flight.ts), so a write orphaned by a
 * killed command is ended before anyone applies a percentage.
 */
import { markCommitFailure, TargetError } from '../errors.js';
import { staleWriteError } from '../state/actor.js';
import { withPlanRecord } from '../state/transitions.js';
import type { Change, RolloutState } from '../state/types.js';
import type { Rollout } from './open.js';

/**
 * Checks that state is still as the command read it (which also shows the store answers), applies
 * `change.to` to the target, then records state and events. The apply is not given the
 * abort signal: an interrupted command finishes the write in flight, so target and state agree.
 * If the apply or the record fails, the target is put back (best effort) to `from`, or to what
 * state says if it was saved meanwhile, and the error says where things stand.
 */
export async function commitChange(rollout: Pick<Rollout, 'plan' | 'store' | 'target'>, change: Change): Promise<void> {
  const touchesTarget = change.alwaysApply || change.from !== change.to;
  if (touchesTarget) {
    await checkUnchanged(rollout, change);
    await rollout.target.settle?.('orphans');
    try {
      await rollout.target.apply(change.to);
    } catch (err) {
      throw markCommitFailure(await withRevert(rollout, change, err, 'applying'));
    }
  }
  try {
    await rollout.store.save(withPlanRecord(rollout.plan, change.next), change.events);
  } catch (err) {
    if (!touchesTarget) throw markCommitFailure(err);
    throw markCommitFailure(await withRevert(rollout, change, err, 'recording'));
  }
}

/**
 * The target moves only if the change can be recorded: a store that cannot be reached, or state
 * saved meanwhile by a command that took the lock over, fails here with the target untouched
 * instead of after it was moved and then put back. A rollback still goes ahead without a store,
 * since less exposure unrecorded beats more exposure; the next command reports the drift.
 */
async function checkUnchanged(rollout: Pick<Rollout, 'plan' | 'store'>, change: Change): Promise<void> {
  let stored: RolloutState | undefined;
  try {
    stored = await rollout.store.load();
  } catch (err) {
    if (change.towardsSafety) return;
    throw err;
  }
  if ((stored?.version ?? 0) !== change.next.version - 1) throw staleWriteError(rollout.plan.name, change.next.version);
}

/** The percentage state wants the target at: 0 % under an emergency's fence, else what it records. */
export function intendedPercent(state: RolloutState): number {
  return state.emergency ? 0 : state.percent;
}

async function withRevert(rollout: Pick<Rollout, 'plan' | 'store' | 'target'>, change: Change, cause: unknown, step: string): Promise<Error> {
  const message = cause instanceof Error ? cause.message : String(cause);
  // State saved since this command read it means a command that took the lock over (rollback
  // --emergency) set the target itself, or this save committed after all: the target follows
  // state, since putting back `from` would undo that.
  const stored = await rollout.store.load().catch(() => undefined);
  const moved = stored !== undefined && stored.version >= change.next.version;
  const back = moved ? intendedPercent(stored) : change.from;
  let outcome: string;
  if (change.towardsSafety && !moved) {
    outcome = `the target was left where this attempt got it, not put back to ${back}%; rerun the rollback, or use --emergency`;
  } else try {
    await rollout.target.apply(back);
    outcome = moved
      ? stored.emergency || stored.rolledBack
        ? `an emergency rollback or a rollback by another command took this rollout over (now ${back}%); the target was set back to ${back}% and this command stops`
        : `state changed meanwhile (now ${back}%), and the target was set to match it`
      : `the target was put back to ${back}%; state is unchanged`;
  } catch (revertError) {
    outcome = `putting the target back to ${back}% failed too (${revertError instanceof Error ? revertError.message : String(revertError)}); the next command will report the drift`;
  }
  const text = rollout.plan.secrets.redact(`${step} ${change.to}% failed: ${message} — ${outcome}`);
  // The cause keeps its own class (target, conflict, store error), hint and exit code.
  if (cause instanceof Error) {
    cause.message = text;
    return cause;
  }
  return new TargetError(text);
}
