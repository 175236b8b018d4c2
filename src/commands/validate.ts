/** `rollout validate [plan]`: loads and checks the plan; problems name file:line:col. */
import { ExitCode } from '../errors.js';
import { judgedMetrics } from '../rollout/meter.js';
import { loadPlanForCommand } from '../rollout/plan.js';
import type { CommandContext, CommandResult, CommonOptions } from '../context.js';

const NOTHING_JUDGED = 'warning: no metric judges this plan (none, or only dryRun ones): every stage advances once its bake time is over';

/** Validates the plan; a PlanError (exit 2) propagates to the entry point, which prints every problem. */
export async function validateCommand(options: CommonOptions & { strictEnv?: boolean }, ctx: CommandContext): Promise<CommandResult> {
  const plan = await loadPlanForCommand(options.plan, ctx, { unsetIsWarning: !options.strictEnv });
  const summary = {
    valid: true,
    plan: plan.name,
    stages: plan.stages.map((s) => s.percent),
    metrics: plan.metrics.map((m) => m.name),
    target: plan.target.type,
  };
  // Valid, but worth a word: such a plan advances on bake time alone.
  if (judgedMetrics(plan).length === 0) ctx.out.error(NOTHING_JUDGED);
  if (options.json) ctx.out.printJson(summary);
  else
    ctx.out.print(
      `${ctx.out.color.green('✓')} ${options.plan} is valid: ${plan.name}, stages ${summary.stages.join(' → ')}%, ` +
        `${plan.metrics.length} metric${plan.metrics.length === 1 ? '' : 's'}, ${plan.target.type} target`,
    );
  return { exitCode: ExitCode.ok };
}
