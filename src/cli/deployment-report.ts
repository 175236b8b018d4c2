/**
 * The deployment log (`rollout report`, and `run`'s GitHub step summary): history grouped into
 * stages — when each began, how long it lasted, the readings, the decision that ended it, and who.
 */
import { formatReadings } from '../analysis/format.js';
import { formatDuration } from '../plan/duration.js';
import type { Plan } from '../plan/types.js';
import type { HistoryEvent } from '../state/types.js';
import { formatTime } from '../time.js';

/** The text formats; `json` is a document of json-documents.ts. */
export type ReportFormat = 'markdown' | 'junit';

/** One stage as it happened. */
export interface StageRecord {
  /** The plan's stage number (1-based), or null for a percentage the plan no longer has. */
  stage: number | null;
  percent: number;
  /** Which time this stage was entered, counting from 1 over the whole history. */
  attempt: number;
  enteredAt: string;
  enteredBy: string;
  /** How it was entered: start, advance or force. */
  entry: HistoryEvent['action'];
  /** ms from entry to the event that ended it (or to the last event). */
  durationMs?: number;
  /** The event that ended the stage: advance, complete, rollback, emergency-rollback… */
  outcome?: HistoryEvent;
  /** Metric values last recorded in this stage. */
  metrics: Record<string, number | null>;
  /** Other events during the stage (hold, resume, drift, recovery). */
  notes: HistoryEvent[];
}

const ENTRIES = new Set<HistoryEvent['action']>(['start', 'advance', 'force']);
const ENDINGS = new Set<HistoryEvent['action']>(['advance', 'force', 'complete', 'rollback', 'emergency-rollback']);

/**
 * Groups history into stages, each numbered by the plan's stages (a rollout rolled back and
 * started again enters stage 1 a second time: stage 1, attempt 2).
 */
export function stageRecords(events: HistoryEvent[], plan: Pick<Plan, 'stages'>, from = 0): StageRecord[] {
  const stages: StageRecord[] = [];
  const attempts = new Map<number, number>();
  let current: StageRecord | undefined;
  for (const [index, event] of events.entries()) {
    if (current && ENDINGS.has(event.action)) {
      current.outcome = event;
      current.durationMs = Date.parse(event.time) - Date.parse(current.enteredAt);
      if (Object.keys(event.metrics).length) current.metrics = event.metrics;
      current = undefined;
    } else if (current) {
      current.notes.push(event);
      if (Object.keys(event.metrics).length) current.metrics = event.metrics;
    }
    if (ENTRIES.has(event.action) && event.to > 0) {
      const attempt = (attempts.get(event.to) ?? 0) + 1;
      attempts.set(event.to, attempt);
      const stage = plan.stages.findIndex((s) => s.percent === event.to);
      current = { stage: stage < 0 ? null : stage + 1, percent: event.to, attempt, enteredAt: event.time, enteredBy: event.actor, entry: event.action, metrics: {}, notes: [] };
      // Stages before `from` still count towards the attempts of those after it.
      if (index >= from) stages.push(current);
    }
  }
  return stages;
}

/** How a stage ended, in words: "advanced to 25%", "rollback to 0%", "in progress". */
export function decisionOf(stage: StageRecord): string {
  if (!stage.outcome) return 'in progress';
  const o = stage.outcome;
  if (o.action === 'complete') return 'completed';
  if (o.action === 'rollback' || o.action === 'emergency-rollback') return `${o.action} to ${o.to}%`;
  return `${o.action === 'force' ? 'forced' : 'advanced'} to ${o.to}%`;
}

/** True when the stage ended in a rollback. */
export function failed(stage: StageRecord): boolean {
  return stage.outcome?.action === 'rollback' || stage.outcome?.action === 'emergency-rollback';
}

/** "stage 2 (25%), attempt 2"; a percentage the plan no longer has is named by itself. */
export function stageName(stage: Pick<StageRecord, 'stage' | 'percent' | 'attempt'>): string {
  return `${stage.stage === null ? 'stage —' : `stage ${stage.stage}`} (${stage.percent}%), attempt ${stage.attempt}`;
}

/** Where the rollout now under way began: the index of the last `start` event (0 without one). */
export function currentRolloutStart(events: HistoryEvent[]): number {
  return Math.max(0, events.findLastIndex((e) => e.action === 'start'));
}

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const escapeXml = (text: string): string => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Renders the report of `plan` from its history (the stages entered from event `from` on), secrets
 * redacted; Markdown shows local times, or UTC with `utc`.
 */
export function renderReport(plan: Plan, history: HistoryEvent[], format: ReportFormat, from = 0, utc = false): string {
  // Redacted before escaping: an XML or Markdown escape inside a secret would hide it from the
  // output's redaction (history is stored redacted, but may predate a secret's registration).
  const events = plan.secrets.redactDeep(history);
  const description = plan.description && plan.secrets.redact(plan.description);
  const stages = stageRecords(events, plan, from);
  const units = new Map(plan.metrics.map((m) => [m.name, m.unit]));
  const metricsText = (metrics: Record<string, number | null>): string => formatReadings(metrics, units) || '—';
  if (format === 'junit') {
    const cases = stages.map((s) => {
      const name = stageName(s);
      const time = ((s.durationMs ?? 0) / 1000).toFixed(3);
      const body = failed(s)
        ? `<failure message="${escapeXml(decisionOf(s))}">${escapeXml(`${s.outcome?.reason ?? ''}\nmetrics: ${metricsText(s.metrics)}\nby ${s.outcome?.actor ?? ''}`)}</failure>`
        : `<system-out>${escapeXml(`${decisionOf(s)}; metrics: ${metricsText(s.metrics)}; entered by ${s.enteredBy}`)}</system-out>`;
      return `    <testcase classname="rollout.${escapeXml(plan.name)}" name="${escapeXml(name)}" time="${time}">${body}</testcase>`;
    });
    const failures = stages.filter(failed).length;
    return [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuites name="rollout" tests="${stages.length}" failures="${failures}">`,
      `  <testsuite name="${escapeXml(plan.name)}" tests="${stages.length}" failures="${failures}">`,
      ...cases,
      '  </testsuite>',
      '</testsuites>',
    ].join('\n');
  }
  const lines = [
    `# Deployment log: ${plan.name}`,
    '',
    ...(description ? [description, ''] : []),
    `| stage (of ${plan.stages.length}) | percent | attempt | entered | by | duration | metrics | decision | reason |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...stages.map((s) =>
      `| ${s.stage ?? '—'} | ${s.percent}% | ${s.attempt} | ${formatTime(s.enteredAt, utc)} | ${escapeCell(s.enteredBy)} | ${s.durationMs === undefined ? '—' : formatDuration(s.durationMs)} | ${escapeCell(metricsText(s.metrics))} | ${decisionOf(s)} | ${escapeCell(s.outcome?.reason ?? '')} |`,
    ),
  ];
  if (stages.length === 0) lines.push('', '_No stage has been applied yet._');
  const notes = stages.flatMap((s) => s.notes);
  if (notes.length) {
    lines.push('', '## Other events', '', ...notes.map((n) => `- ${formatTime(n.time, utc)} **${n.action}** by ${escapeCell(n.actor)} at ${n.to}%: ${escapeCell(n.reason)}`));
  }
  return lines.join('\n');
}
