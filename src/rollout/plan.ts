/** Plan loading as commands do it: the environment from the context. */
import type { CommandContext } from '../context.js';
import { formatProblem } from '../errors.js';
import { loadPlan, type LoadPlanOptions } from '../plan/load-plan.js';
import { commandPlanCache } from '../plan/parse-cache.js';
import type { Plan } from '../plan/types.js';

/**
 * Loads and validates the plan at `file` (throws PlanError, exit 2); its warnings go to stderr
 * unless `onWarning` takes them. The command's plan cache (bin/rollout.js) saves parsing it again.
 */
export function loadPlanForCommand(file: string, ctx: Pick<CommandContext, 'env' | 'out'>, options: Pick<LoadPlanOptions, 'unsetIsWarning' | 'onWarning'> = {}): Promise<Plan> {
  return loadPlan(file, { env: ctx.env, parseCache: commandPlanCache(), onWarning: (p) => ctx.out.error(`warning: ${formatProblem(p)}`), ...options });
}
