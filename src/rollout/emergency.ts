/**
 * The break-glass path of `rollback --emergency`: 0 % first, then everything else, and nothing may
 * hold it up. The order, and why:
 *  1. The store work starts at once but runs beside the target, each step under a deadline: take
 *     the lock over, load state, write the fence (`state.emergency`, see commit.ts). An
 *     unreachable or hung store never delays the target.
 *  2. Writes left in flight by other commands are ended (targets/in-flight.ts), then the target
 *     is set to 0 under a short per-call deadline, then the target's emergency actions run.
 *  3. The fence is waited for (bounded), then the target is read back: a write that landed after
 *     our 0 (a former holder's request that was still in flight) is overwritten with 0 again.
 *     A former write that lands later still finds the fence at its save and puts itself back.
 *  4. State (0 %, or on failure only the attempt with the fence kept) and history are recorded,
 *     then notifications go out. Success means the read-back says 0 (where the target can read).
 */
import type { CommandContext } from '../context.js';
import type { Delivery } from '../notify/notify.js';
import type { Plan } from '../plan/types.js';
import { lockHolder } from '../state/actor.js';
import { notStarted, recordAttempt, rolledBack } from '../state/transitions.js';
import type { Lock, LockHolder, RolloutState, StateStore } from '../state/types.js';
import type { Target } from '../targets/target.js';
import { DeadlineError, withDeadline } from './deadline.js';
import { historyEvent, notifyEvents } from './events.js';

/** How long each call of the emergency may take. */
export interface EmergencyDeadlines {
  /** Each target call: the set, the emergency actions, the read-back (default 10 s). */
  callMs: number;
  /** Each store step: open, lock, load, save (default 5 s). */
  storeMs: number;
}

/** What the emergency did. `ok` only when the target is at 0 (read back where it can be). */
export interface EmergencyOutcome {
  ok: boolean;
  /** The percentage state recorded before; undefined when state could not be read. */
  from?: number;
  /** What the target read back after the rollback; undefined when it cannot be read. */
  readBack?: number;
  /** Each failed step, in words; the emergency went on past it. */
  problems: string[];
  tookOverFrom?: LockHolder;
  deliveries: Delivery[];
  /** Why the emergency is not done, when `ok` is false: the target's failure, else its emergency actions'. */
  failure?: string;
  /** The target is known to be at 0 (read back, or set where it cannot be read), whatever the emergency actions did. */
  targetAtZero: boolean;
}

interface Fence {
  /** The store, unless it hung: then nothing more is asked of it. */
  store?: StateStore;
  /** A hung store, closed at the end without waiting for it. */
  closeLater?: StateStore;
  lock?: Lock;
  /** State as loaded, before the fence; undefined when it could not be read. */
  loaded?: RolloutState;
  /** What the final record builds on: the fence as written, else what was loaded. */
  state?: RolloutState;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Rolls `plan` back to 0 % now; see the file comment for the order. */
export async function emergencyRollback(
  plan: Plan,
  target: Target,
  openStore: () => Promise<StateStore>,
  ctx: CommandContext,
  options: { reason?: string; deadlines: EmergencyDeadlines },
): Promise<EmergencyOutcome> {
  const { callMs, storeMs } = options.deadlines;
  const problems: string[] = [];
  const step = async <T>(what: string, ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> => {
    try {
      return await withDeadline(what, ms, work);
    } catch (err) {
      problems.push(`${what}: ${messageOf(err)}`);
      return undefined;
    }
  };
  const holder = lockHolder('rollback --emergency', ctx.env, ctx.clock);
  const fencing = fence(plan, openStore, holder, problems, storeMs);

  let applyFailure: string | undefined;
  const toZero = async (): Promise<boolean> => {
    await step('ending writes in flight', callMs, async () => target.settle?.('all'));
    const done = await step('target', callMs, async (signal) => {
      await target.apply(0, signal);
      return true;
    });
    applyFailure = done === true ? undefined : problems.at(-1);
    return done === true;
  };
  await toZero();
  const actionsDone = await step('emergency actions', callMs, async (signal) => {
    await target.emergency(signal);
    return true;
  });
  const actionsFailure = actionsDone === true ? undefined : problems.at(-1);

  const fenced = await fencing;
  // Read back after the fence stands: anything that moved the target before it is seen here.
  let readBack = await step('read-back', callMs, (signal) => target.read(signal));
  if (readBack !== undefined && readBack !== 0) {
    problems.push(`the target read back ${readBack}% after the rollback (a write in flight landed); set to 0 again`);
    if (await toZero()) readBack = await step('read-back', callMs, (signal) => target.read(signal));
  }
  // Where the target can be read, what it says decides; where it cannot, whether the set went through.
  const targetFailure = readBack === undefined ? applyFailure : readBack === 0 ? undefined : `the target still reads ${readBack}%`;
  const failure = targetFailure ?? actionsFailure;
  const from = fenced.loaded?.percent;

  const tookOver = fenced.lock?.tookOverFrom;
  const takeover = tookOver ? `; took the lock from ${tookOver.actor} (pid ${tookOver.pid} on ${tookOver.host}, ${tookOver.command})` : '';
  const reason = `${options.reason ?? 'emergency rollback'}${takeover}${failure ? `; ${targetFailure ? 'target' : 'emergency actions'} FAILED: ${failure}` : ''}`;
  const event = historyEvent(plan, ctx, { action: 'emergency-rollback', from: from ?? 0, to: 0, reason, verdict: 'skipped' });
  if (fenced.store) {
    const base = fenced.state ?? notStarted(plan);
    // Recorded even when the target failed, so history shows the attempt; state says 0 only on success.
    const next = failure ? recordAttempt(base) : rolledBack(plan, base, { stageIndex: -1, percent: 0 }, ctx.clock.now());
    const store = fenced.store;
    await step('recording', storeMs, () => store.save(next, [event], { force: true }));
  } else {
    problems.push('recording: skipped, the state store did not answer; history misses this rollback (rerun once it answers)');
  }
  const deliveries = await notifyEvents(plan, [event], ctx);
  await fenced.lock?.release().catch(() => undefined);
  await fenced.store?.close().catch(() => undefined);
  void fenced.closeLater?.close().catch(() => undefined);
  return { ok: failure === undefined, from, readBack, problems, tookOverFrom: tookOver, deliveries, failure, targetAtZero: targetFailure === undefined };
}

/**
 * Opens the store, takes the lock over, loads state and writes the fence, each step bounded. A
 * store that let one step run into its deadline is not asked again: each ask would cost another.
 */
async function fence(plan: Plan, openStore: () => Promise<StateStore>, holder: LockHolder, problems: string[], storeMs: number): Promise<Fence> {
  let hung = false;
  const ask = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
    if (hung) return undefined;
    try {
      return await withDeadline(what, storeMs, work);
    } catch (err) {
      hung = err instanceof DeadlineError;
      problems.push(`${what}: ${messageOf(err)}`);
      return undefined;
    }
  };
  const store = await ask('state store', openStore);
  if (!store) return {};
  const lock = await ask('lock', () => store.lock(holder, { takeOver: true }));
  const state = await ask('state', () => store.load());
  const fenceState = { ...recordAttempt(state ?? notStarted(plan)), emergency: { by: holder.actor, at: Date.parse(holder.since), command: 'rollback --emergency' } };
  const written = await ask('fence', async () => {
    await store.save(fenceState, [], { force: true });
    return true;
  });
  return { store: hung ? undefined : store, lock, loaded: state, state: written ? fenceState : state, closeLater: hung ? store : undefined };
}
