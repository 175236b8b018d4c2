/**
 * The meter: reads a plan's metrics and judges them, one poll per call. Warm-up is decided here
 * (judgeStagePoll), once per poll with one clock read, and travels in the judgement (`warmingUp`).
 */
import type { Judgement } from '../analysis/judge.js';
import { judgeStagePoll } from '../analysis/judge-stage.js';
import type { CommandContext } from '../context.js';
import { ExitCode } from '../errors.js';
import type { Plan } from '../plan/types.js';
import type { MetricSource } from '../sources/source.js';
import type { RolloutState } from '../state/types.js';

/** Reads and judges a plan's metrics, one poll per call. */
export interface Meter {
  judge(state: RolloutState | undefined): Promise<Judgement>;
}

type ReadMetrics = typeof import('../sources/read-metrics.js');

/**
 * A meter for `plan`. The sources are built on the first poll and kept, so `run` does not re-read
 * the exposition scrape file or re-parse expressions every poll, and a command that never polls
 * never loads the source modules.
 */
export function createMeter(plan: Plan, stateDir: string, ctx: Pick<CommandContext, 'clock' | 'signal'>): Meter {
  let sources: Promise<{ readPoll: ReadMetrics['readPoll']; sources: Record<string, MetricSource> }> | undefined;
  return {
    async judge(state) {
      sources ??= import('../sources/read-metrics.js').then(async (m) => ({ readPoll: m.readPoll, sources: await m.createSources(plan, { scrapeDir: stateDir, clock: ctx.clock }) }));
      const { readPoll, sources: built } = await sources;
      const poll = await readPoll(plan, built, { signal: ctx.signal });
      return judgeStagePoll(plan, poll, state, ctx.clock.now());
    },
  };
}

/** The metrics that can change a decision (not `dryRun`). */
export function judgedMetrics(plan: Plan): Plan['metrics'] {
  return plan.metrics.filter((m) => !m.dryRun);
}

/** The exit code a verdict maps to (check, status --exit-code). */
export function verdictExitCode(judgement: Judgement): 0 | 3 | 4 {
  return judgement.verdict === 'healthy' ? ExitCode.ok : judgement.verdict === 'hold' ? ExitCode.held : ExitCode.critical;
}
