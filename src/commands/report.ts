/** `rollout report [plan]`: the deployment log in Markdown, JSON or JUnit XML. */
import { renderReport, type ReportFormat } from '../cli/deployment-report.js';
import { appendStepSummary } from '../cli/github-actions.js';
import { ExitCode, UsageError } from '../errors.js';
import type { CommandContext, CommandResult } from './context.js';
import { readHistory, type StateOptions } from '../rollout/open.js';

export interface ReportOptions extends StateOptions {
  format?: string;
}

const FORMATS: ReportFormat[] = ['markdown', 'json', 'junit'];

/** Prints the report; under GitHub Actions also appends it, in Markdown, to the step summary. */
export async function reportCommand(options: ReportOptions, ctx: CommandContext): Promise<CommandResult> {
  const format = (options.json ? 'json' : (options.format ?? 'markdown')) as ReportFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`unknown report format "${format}"`, `use --format ${FORMATS.join(', --format ')}`);
  const { plan, events } = await readHistory(options, ctx);
  ctx.out.print(renderReport(plan, events, format));
  await appendStepSummary(plan, events, ctx.env, ctx.out);
  return { exitCode: ExitCode.ok };
}
