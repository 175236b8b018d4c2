/**
 * Commands inside GitHub Actions (GITHUB_ACTIONS is set): holds, rollbacks and failures become
 * workflow-command annotations on the run's summary page, and `run` and `report` append the
 * deployment report to the job's step summary ($GITHUB_STEP_SUMMARY).
 *
 * Annotations go to stderr: the runner reads workflow commands from both streams (actions/runner
 * ScriptHandler attaches its command parser to stdout and stderr alike), and stdout stays clean
 * for --json lines.
 */
import { appendFile } from 'node:fs/promises';
import type { Judgement } from '../analysis/judge.js';
import type { RunEvent } from '../analysis/run-loop.js';
import { processSecrets } from '../plan/secrets.js';
import type { Plan } from '../plan/types.js';
import type { HistoryEvent } from '../state/types.js';
import { currentRolloutStart, renderReport } from './deployment-report.js';
import type { Output } from './output.js';

/** The GitHub Actions side of a run. */
export interface GithubActions {
  /** Annotates the events a reviewer of the workflow run must see. */
  annotate(event: RunEvent): void;
  /** Annotates the error that ended the run. */
  annotateError(err: unknown): void;
  /**
   * Appends the deployment report of `events` to the step summary, naming the HTML report file if
   * one was written (for the workflow to upload); a failure is only a warning.
   */
  writeSummary(events: HistoryEvent[], htmlReport?: string): Promise<void>;
}

/** Escapes a workflow command's message (toolkit's escapeData). */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a workflow command's property value (toolkit's escapeProperty). */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** A `::warning::` or `::error::` workflow command with a title, secrets redacted. */
export function annotation(level: 'warning' | 'error', title: string, message: string): string {
  // Redacted before escaping: escaping turns a secret's "%" or ":" into "%25" or "%3A", which the
  // output's redaction would no longer recognise.
  const clean = (text: string) => processSecrets.redact(text);
  return `::${level} title=${escapeProperty(clean(title))}::${escapeData(clean(message))}`;
}

/** The annotation an event deserves, if any. */
export function annotationFor(plan: Plan, event: RunEvent): string | undefined {
  const name = `rollout ${plan.name}`;
  switch (event.type) {
    case 'event': {
      const e = event.event;
      if (e.action === 'hold') return annotation('warning', `${name} held at ${e.to}%`, e.reason);
      if (e.action === 'rollback') return annotation('error', `${name} rolled back ${e.from}% → ${e.to}%`, e.reason);
      return undefined;
    }
    case 'recovery':
      return event.recovered ? undefined : annotation('error', `${name} not recovered after the rollback`, event.reason);
    case 'notify-failed':
      return annotation('warning', `${name}: notification failed`, `notifying ${event.receiver} ${event.to} of ${event.action} failed: ${event.error}`);
    case 'run-end':
      // Holds and rollbacks were annotated as they happened; these stops were not.
      return event.outcome === 'timeout' || event.outcome === 'paused' || event.outcome === 'interrupted'
        ? annotation('warning', `${name} stopped at ${event.percent}%`, event.reason)
        : undefined;
    default:
      return undefined;
  }
}

/** True inside a GitHub Actions job. */
export function inGithubActions(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.GITHUB_ACTIONS) && env.GITHUB_ACTIONS !== 'false';
}

/** Annotations for the readings of one judgement: warnings (and no data) as warnings, criticals as errors. */
export function readingAnnotations(plan: Plan, judgement: Judgement): string[] {
  return judgement.readings
    .filter((r) => r.status !== 'ok' && !r.dryRun)
    .map((r) =>
      annotation(r.status === 'critical' ? 'error' : 'warning', `rollout ${plan.name}: ${r.name} ${r.status}`, `${r.name} ${r.display}: ${r.reason}`),
    );
}

/** Prints `readingAnnotations` when running under GitHub Actions (check, status, advance). */
export function annotateReadings(plan: Plan, judgement: Judgement | undefined, env: NodeJS.ProcessEnv, out: Output): void {
  if (!judgement || !inGithubActions(env)) return;
  for (const line of readingAnnotations(plan, judgement)) out.error(line);
}

/**
 * Appends the deployment report of the rollout under way in `events` (from its last `start` on; and
 * where the HTML report was written, if it was) to the job's step summary, when running under
 * GitHub Actions with $GITHUB_STEP_SUMMARY set; a failure is only a warning.
 */
export async function appendStepSummary(plan: Plan, events: HistoryEvent[], env: NodeJS.ProcessEnv, out: Output, htmlReport?: string): Promise<void> {
  const summaryFile = env.GITHUB_STEP_SUMMARY;
  if (!summaryFile || !inGithubActions(env)) return;
  const charts = htmlReport ? `\n\nThe report with charts is in \`${htmlReport}\`: upload it as an artifact to keep it.` : '';
  try {
    // This rollout's stages only: the job ran this rollout, not the earlier ones in its history.
    const report = renderReport(plan, events, 'markdown', currentRolloutStart(events));
    await appendFile(summaryFile, `${plan.secrets.redact(report + charts)}\n`);
  } catch (err) {
    out.error(`warning: could not append the report to $GITHUB_STEP_SUMMARY: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The GitHub Actions integration, or undefined outside GitHub Actions. */
export function createGithubActions(plan: Plan, env: NodeJS.ProcessEnv, out: Output): GithubActions | undefined {
  if (!inGithubActions(env)) return undefined;
  return {
    annotate(event) {
      const line = annotationFor(plan, event);
      if (line) out.error(line);
    },
    annotateError(err) {
      out.error(annotation('error', `rollout ${plan.name} failed`, err instanceof Error ? err.message : String(err)));
    },
    writeSummary: (events, htmlReport) => appendStepSummary(plan, events, env, out, htmlReport),
  };
}
