/** `rollout report [plan]`: the deployment log in Markdown, JSON or JUnit XML, or as an HTML page with charts. */
import { writeFile } from 'node:fs/promises';
import { renderReport, type ReportFormat } from '../cli/deployment-report.js';
import { appendStepSummary } from '../cli/github-actions.js';
import { renderHtmlReport } from '../cli/html-report.js';
import { reportDocument } from '../cli/json-documents.js';
import { ExitCode, UsageError } from '../errors.js';
import type { Plan } from '../plan/types.js';
import type { HistoryEvent, StateStore } from '../state/types.js';
import type { CommandContext, CommandResult } from '../context.js';
import { openStore, readHistory, type StateOptions } from '../rollout/open.js';
import { loadPlanForCommand } from '../rollout/plan.js';

export interface ReportOptions extends StateOptions {
  format?: string;
}

const FORMATS: (ReportFormat | 'json' | 'html')[] = ['markdown', 'json', 'junit', 'html'];

/** Prints the report; under GitHub Actions also appends it, in Markdown, to the step summary. */
export async function reportCommand(options: ReportOptions, ctx: CommandContext): Promise<CommandResult> {
  const format = (options.format ?? (options.json ? 'json' : 'markdown')) as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) throw new UsageError(`unknown report format "${format}"`, `use --format ${FORMATS.join(', --format ')}`);
  // --json is `--format json`; asked for beside another format, neither is picked over the other.
  if (options.json && format !== 'json') throw new UsageError(`--json conflicts with --format ${format}`, `drop --json for the ${format} report, or use --format json (the same as --json)`);
  if (format === 'html') {
    const plan = await loadPlanForCommand(options.plan, ctx);
    const store = await openStore(plan, options, ctx);
    try {
      const events = await store.history();
      ctx.out.print(await htmlReport(plan, events, store, ctx));
      await appendStepSummary(plan, events, ctx.env, ctx.out);
    } finally {
      await store.close();
    }
    return { exitCode: ExitCode.ok };
  }
  const { plan, events } = await readHistory(options, ctx);
  if (format === 'json') ctx.out.printJson(reportDocument(plan, events));
  else ctx.out.print(renderReport(plan, events, format, 0, ctx.out.utc));
  await appendStepSummary(plan, events, ctx.env, ctx.out);
  return { exitCode: ExitCode.ok };
}

/**
 * The HTML report of `plan` from its store: history and the poll log, secrets redacted. A poll log
 * that cannot be read is a warning: the charts then show the readings recorded in history.
 */
export async function htmlReport(plan: Plan, events: HistoryEvent[], store: Pick<StateStore, 'samples'>, ctx: Pick<CommandContext, 'out'>): Promise<string> {
  const samples = await store.samples().catch((err: unknown) => {
    ctx.out.error(`warning: the poll log could not be read (${err instanceof Error ? err.message : String(err)}); the charts show the readings in history only`);
    return [];
  });
  return plan.secrets.redact(renderHtmlReport(plan, events, samples));
}

/**
 * `run --report-html FILE`: writes the HTML report when the run ends. A failure is a warning, never
 * the run's outcome: the rollout itself is done and recorded. Returns whether it was written.
 */
export async function writeHtmlReport(file: string, plan: Plan, store: Pick<StateStore, 'history' | 'samples'>, ctx: Pick<CommandContext, 'out'>): Promise<boolean> {
  try {
    await writeFile(file, await htmlReport(plan, await store.history(), store, ctx));
    return true;
  } catch (err) {
    ctx.out.error(`warning: the HTML report was not written to ${file}: ${err instanceof Error ? err.message : String(err)}`);
    return false;
  }
}
