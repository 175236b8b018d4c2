/** `rollout validate [plan]`: loads and checks the plan; problems name file:line:col. */
import { ExitCode, formatProblem, PlanError, type PlanProblem } from '../errors.js';
import { judgedMetrics } from '../rollout/meter.js';
import { loadPlanForCommand } from '../rollout/plan.js';
import type { Plan } from '../plan/types.js';
import type { CommandContext, CommandResult, CommonOptions } from '../context.js';

const NOTHING_JUDGED = 'warning: no metric judges this plan (none, or only dryRun ones): every stage advances once its bake time is over';

/**
 * Validates the plan. An invalid plan exits 2: without --json its PlanError propagates to the entry
 * point, which prints every problem; with --json the validate document lists them.
 */
export async function validateCommand(options: CommonOptions & { strictEnv?: boolean }, ctx: CommandContext): Promise<CommandResult> {
  const warnings: PlanProblem[] = [];
  const onWarning = (p: PlanProblem) => {
    warnings.push(p);
    ctx.out.error(`warning: ${formatProblem(p)}`);
  };
  let plan: Plan;
  try {
    plan = await loadPlanForCommand(options.plan, ctx, { onWarning, unsetIsWarning: !options.strictEnv });
  } catch (err) {
    if (!(options.json && err instanceof PlanError)) throw err;
    const { validateDocument } = await import('../cli/json-documents.js');
    ctx.out.printJson(validateDocument(options.plan, { problems: err.problems }, warnings));
    ctx.out.error(`error: ${err.message}`);
    return { exitCode: ExitCode.invalid };
  }
  // Valid, but worth a word: such a plan advances on bake time alone.
  if (judgedMetrics(plan).length === 0) ctx.out.error(NOTHING_JUDGED);
  // The documents module is loaded only for --json: validate's start-up is bench-measured.
  if (options.json) ctx.out.printJson((await import('../cli/json-documents.js')).validateDocument(options.plan, { plan }, warnings));
  else
    ctx.out.print(
      `${ctx.out.color.green('✓')} ${options.plan} is valid: ${plan.name}, stages ${plan.stages.map((s) => s.percent).join(' → ')}%, ` +
        `${plan.metrics.length} metric${plan.metrics.length === 1 ? '' : 's'}, ${plan.target.type} target`,
    );
  return { exitCode: ExitCode.ok };
}
