/**
 * The requesting side of rollout/requests.ts: a command that finds a `run` holding the lock posts
 * its request in the store and waits, bounded and saying so, for the run to answer. Without a run
 * to answer, the request is withdrawn and nothing changes.
 */
import type { CommandContext, CommandResult } from '../context.js';
import { askedRunDocument } from '../cli/json-documents.js';
import { ConflictError } from '../errors.js';
import { formatDuration } from '../plan/duration.js';
import { detectActor, LockedError } from '../state/actor.js';
import type { LockHolder, RunRequest } from '../state/types.js';
import { openRollout, withLockedRollout, type Rollout, type StateOptions } from './open.js';

/** How long a command waits for the run's answer by default: a run checks for requests about every second. */
const ANSWER_WAIT_MS = 30_000;
const ANSWER_POLL_MS = 200;

/** `ROLLOUT_REQUEST_WAIT_MS` overrides the wait (at least a second, so a run can answer at all). */
function answerWaitMs(env: NodeJS.ProcessEnv): number {
  const ms = Number(env.ROLLOUT_REQUEST_WAIT_MS);
  return Number.isInteger(ms) && ms >= 1000 ? ms : ANSWER_WAIT_MS;
}

/**
 * Runs `fn` on the rollout holding its lock, as withLockedRollout does. When a `run` holds the
 * lock, asks the run instead: `request` makes the request (or returns undefined when this command
 * cannot be asked of a run, which then meets the lock as before).
 */
export async function withLockedRolloutOrAskRun(
  options: StateOptions,
  ctx: CommandContext,
  command: string,
  request: (rollout: Rollout, by: string) => Promise<RunRequest | undefined>,
  fn: (rollout: Rollout) => Promise<CommandResult>,
): Promise<CommandResult> {
  try {
    return await withLockedRollout(options, ctx, command, fn);
  } catch (err) {
    // Only taking the lock throws LockedError: `fn` takes none.
    if (!(err instanceof LockedError) || err.holder.command !== 'run') throw err;
    const rollout = await openRollout(options, ctx);
    try {
      const asked = await request(rollout, detectActor(ctx.env));
      if (!asked) throw err;
      return await askRun(rollout, err.holder, asked, ctx);
    } finally {
      await rollout.close();
    }
  }
}

/** Posts `request` for the run held by `holder` and waits for its answer (bounded). */
async function askRun(rollout: Pick<Rollout, 'plan' | 'store'>, holder: LockHolder, request: RunRequest, ctx: CommandContext): Promise<CommandResult> {
  const { store, plan } = rollout;
  const who = `the run of ${plan.name} (${holder.actor}, pid ${holder.pid} on ${holder.host})`;
  const waitMs = answerWaitMs(ctx.env);
  await store.postRequest(request);
  ctx.out.error(`${plan.name} is being run by ${holder.actor} (pid ${holder.pid} on ${holder.host}); asked the run to ${request.kind}, waiting up to ${formatDuration(waitMs)} for it to answer`);
  const started = ctx.clock.monotonic();
  let answered = false;
  let withdrawn = false;
  try {
    for (;;) {
      const answer = await store.takeAnswer(request.id).catch(() => undefined);
      if (answer) {
        answered = true;
        ctx.progress?.clear();
        if (ctx.out.json) ctx.out.printJson(askedRunDocument(plan, request.kind, answer));
        else ctx.out.print(answer.message);
        return { exitCode: answer.exitCode as CommandResult['exitCode'] };
      }
      const left = waitMs - (ctx.clock.monotonic() - started);
      if (left <= 0) break;
      ctx.progress?.show(`waiting for ${who} to take the ${request.kind} request: ${formatDuration(Math.max(1000, left))} left`);
      await ctx.clock.sleep(Math.min(ANSWER_POLL_MS, left), ctx.signal);
    }
  } finally {
    ctx.progress?.clear();
    // Unanswered (timed out or interrupted): a request a stuck run takes later would surprise everyone.
    if (!answered) withdrawn = await store.withdrawRequest(request.id).catch(() => false);
  }
  throw new ConflictError(
    withdrawn
      ? `${who} did not answer within ${formatDuration(waitMs)}; the request was withdrawn and nothing changed`
      : `${who} took the ${request.kind} request but did not answer within ${formatDuration(waitMs)}; see \`rollout status\` and \`rollout history\``,
    'if the run is stuck, `rollout rollback --emergency` takes over',
  );
}
