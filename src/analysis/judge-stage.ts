/** Judging one poll of a rollout where it stands: the code path of every command that polls. */
import type { Plan } from '../plan/types.js';
import type { MetricValue } from '../readings.js';
import type { RolloutState } from '../state/types.js';
import { stageEvidence } from './compare/judge-comparison.js';
import { inWarmup } from './decide.js';
import { judgePoll, type Judgement } from './judge.js';

/** Judges a poll taken at `now` of the rollout in `state`: warm-up, traffic floor and the stage's counts so far. */
export function judgeStagePoll(plan: Plan, poll: { metrics: MetricValue[]; requests?: MetricValue }, state: RolloutState | undefined, now: number): Judgement {
  return judgePoll(plan, poll.metrics, { warmingUp: inWarmup(plan, state, now), requests: poll.requests, evidence: stageEvidence(state), now });
}
