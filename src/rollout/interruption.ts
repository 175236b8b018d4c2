/**
 * A state-changing command stopped by a signal (or a closed output): it finishes any change in
 * flight (commit.ts never hands the apply the signal), then ends with exit 130 and says where
 * target and state stand, as an interrupted `run` does.
 */
import type { CommandContext } from '../context.js';
import { CancelledError, DeclinedError, InterruptedError, isCommitFailure } from '../errors.js';
import { rolloutCommand, type CommandSpelling } from './next-step.js';
import type { Plan } from '../plan/types.js';
import type { StateStore } from '../state/types.js';

/** The rollout a locked command acts on (open.ts's Rollout, which imports this module). */
interface Locked {
  plan: Plan;
  store: StateStore;
}

/**
 * Runs `fn`; if the command's signal was aborted meanwhile, ends with an InterruptedError naming
 * where target and state stand instead of `fn`'s result, or of the error the interrupt caused (a
 * read cut short). A failed change keeps its own error: "put back to 25 %" says more than 130.
 */
export async function reportingInterruption<T>(rollout: Locked, command: string, spelling: CommandSpelling, ctx: Pick<CommandContext, 'signal'>, fn: () => Promise<T>): Promise<T> {
  const versionBefore = await storedVersion(rollout);
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    if (!ctx.signal.aborted || isCommitFailure(err) || err instanceof CancelledError || err instanceof DeclinedError) throw err;
    throw await interrupted(rollout, command, spelling, ctx.signal, versionBefore);
  }
  if (ctx.signal.aborted) throw await interrupted(rollout, command, spelling, ctx.signal, versionBefore);
  return result;
}

async function storedVersion(rollout: Pick<Locked, 'store'>): Promise<number | undefined> {
  return (await rollout.store.load().catch(() => undefined))?.version;
}

async function interrupted(rollout: Locked, command: string, spelling: CommandSpelling, signal: AbortSignal, versionBefore: number | undefined): Promise<InterruptedError> {
  const { plan } = rollout;
  const why = signal.reason instanceof Error ? signal.reason.message : 'interrupted';
  const run = (verb: string) => `\`${rolloutCommand(verb, spelling)}\``;
  const goOn = command === 'rollback' ? `Run ${run('rollback')} again to finish, or ${run('status')} to look first` : `Continue with ${run(command)}, or roll back with ${run('rollback')}`;
  try {
    const state = await rollout.store.load();
    const where = state && state.stageIndex >= 0 ? `${state.percent}% (stage ${state.stageIndex + 1}/${plan.stages.length})` : `${state?.percent ?? 0}% (not started)`;
    const changed = (state?.version ?? 0) !== (versionBefore ?? 0);
    const stand = changed
      ? `${command} finished its change first; state and target agree: the target is at ${where}, as state records`
      : `nothing changed: the target is where it was, at ${where} as state records`;
    return new InterruptedError(`${why}; ${stand}. ${goOn}`);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return new InterruptedError(`${why}; any change in flight was finished, but state cannot be read now (${reason}). ${goOn}`);
  }
}
