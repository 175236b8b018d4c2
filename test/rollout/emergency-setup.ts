/** What the emergency's in-process tests share: a three-stage plan and an on-call engineer's context. */
import { memoryOutput } from '../../src/cli/output.js';
import { systemClock } from '../../src/clock.js';
import type { CommandContext } from '../../src/context.js';
import { planFromYaml } from '../helpers/plan.js';

export const emergencyPlan = await planFromYaml('version: 1\nname: em\nstages: [10, 50, 100]\ntarget: { type: command, set: [echo] }\n');

/** A context without a terminal, acting as `oncall`, on the real clock (deadlines are real time). */
export const oncallContext = (): CommandContext => ({
  out: memoryOutput(),
  prompter: { interactive: false, confirm: async () => false } as unknown as CommandContext['prompter'],
  clock: systemClock,
  env: { ROLLOUT_ACTOR: 'oncall' },
  signal: new AbortController().signal,
});
