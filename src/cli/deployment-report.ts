/**
 * The deployment log (`rollout report`, and `run`'s GitHub step summary): history grouped into
 * stages — when each began, how long it lasted, the readings, the decision that ended it, and who.
 */
import { formatReadings } from '../analysis/format.js';
import { formatDuration } from '../plan/duration.js';
import type { Plan } from '../plan/types.js';
import { describeMove, type HistoryEvent } from '../state/types.js';
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
  /** How it was entered: start, advance, force, or a rollback down to this stage. */
  entry: HistoryEvent['action'];
  /** ms from entry to the event that ended it (or to its completion while it is still live). */
  durationMs?: number;
  /** The last event that ended the stage: advance, force, rollback, emergency-rollback, or complete. */
  outcome?: HistoryEvent;
  /** The `complete` event, when the rollout completed at this stage (a later rollback then ends it). */
  completion?: HistoryEvent;
  /** Metric values last recorded in this stage. */
  metrics: Record<string, number | null>;
  /** Other events during the stage (hold, resume, drift, recovery). */
  notes: HistoryEvent[];
}

/** History in stages, and every event that neither entered nor ended one of them. */
export interface DeploymentLog {
  stages: StageRecord[];
  /** Notes during stages and events at no stage (a rollback at 0 %, recovery checks…), in order. */
  others: HistoryEvent[];
}

/** Actions that move the rollout from one percentage to another; a move above 0 % enters a stage. */
const MOVES = new Set<HistoryEvent['action']>(['start', 'advance', 'force', 'rollback', 'emergency-rollback']);

/**
 * Groups history into stages, each numbered by the plan's stages: every move above 0 % (a rollback
 * to 10 % as well as a new start) enters one, so a stage entered again gets its next attempt.
 */
export function deploymentLog(events: HistoryEvent[], plan: Pick<Plan, 'stages'>, from = 0): DeploymentLog {
  const stages: StageRecord[] = [];
  const attempts = new Map<number, number>();
  const shown = new Set<HistoryEvent>();
  let current: StageRecord | undefined;
  let listed = false;
  const end = (stage: StageRecord, event: HistoryEvent): void => {
    stage.outcome = event;
    stage.durationMs = Date.parse(event.time) - Date.parse(stage.enteredAt);
    if (listed) shown.add(event);
  };
  for (const [index, event] of events.entries()) {
    const moves = MOVES.has(event.action) && event.from !== event.to;
    if (current && Object.keys(event.metrics).length) current.metrics = event.metrics;
    if (current && moves) {
      end(current, event);
      current = undefined;
    } else if (current && event.action === 'complete' && !current.completion) {
      // The rollout is done, but the stage stays live: a later rollback still ends it.
      current.completion = event;
      end(current, event);
    } else if (current) {
      current.notes.push(event);
    }
    if (moves && event.to > 0) {
      const attempt = (attempts.get(event.to) ?? 0) + 1;
      attempts.set(event.to, attempt);
      current = { stage: planStageOf(plan, event.to), percent: event.to, attempt, enteredAt: event.time, enteredBy: event.actor, entry: event.action, metrics: {}, notes: [] };
      // Stages before `from` still count towards the attempts of those after it.
      listed = index >= from;
      if (listed) {
        stages.push(current);
        shown.add(event);
      }
    }
  }
  return { stages, others: events.slice(from).filter((e) => !shown.has(e)) };
}

/** The stages of `deploymentLog`. */
export function stageRecords(events: HistoryEvent[], plan: Pick<Plan, 'stages'>, from = 0): StageRecord[] {
  return deploymentLog(events, plan, from).stages;
}

/** An event that ended a stage, in words: "advanced to 25%", "rollback to 10% by alice". */
function endingOf(event: HistoryEvent): string {
  switch (event.action) {
    case 'complete':
      return 'completed';
    case 'rollback':
    case 'emergency-rollback':
      return `${event.action === 'rollback' ? 'rollback' : 'emergency rollback'} to ${event.to}% by ${event.actor}`;
    case 'start':
      return `started again at ${event.to}%`;
    default:
      return `${event.action === 'force' ? 'forced' : 'advanced'} to ${event.to}%`;
  }
}

/** The plan's stage number (1-based) at `percent`; null for 0 % or a percentage the plan does not have. */
export function planStageOf(plan: Pick<Plan, 'stages'>, percent: number): number | null {
  const index = plan.stages.findIndex((s) => s.percent === percent);
  return index < 0 ? null : index + 1;
}

/** How a stage ended: "advanced to 25%", "completed, then rollback to 50% by alice", "in progress". */
export function decisionOf(stage: StageRecord): string {
  if (!stage.outcome) return 'in progress';
  const ending = endingOf(stage.outcome);
  return stage.completion && stage.completion !== stage.outcome ? `completed, then ${ending}` : ending;
}

/** Why the stage ended: the reason of its ending, after that of its completion when a rollback followed. */
export function reasonOf(stage: StageRecord): string {
  const { completion, outcome } = stage;
  return completion && completion !== outcome ? `${completion.reason}; then ${outcome?.reason ?? ''}` : (outcome?.reason ?? '');
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

/** An event that is no stage row, in one line: "<time> not-recovered by ci at 0%: <reason>". */
const eventLine = (e: HistoryEvent, time: string, strong = ''): string => `${time} ${strong}${e.action}${strong} by ${e.actor} ${describeMove(e)}: ${e.reason}`;
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
  const { stages, others } = deploymentLog(events, plan, from);
  const units = new Map(plan.metrics.map((m) => [m.name, m.unit]));
  const metricsText = (metrics: Record<string, number | null>): string => formatReadings(metrics, units) || '—';
  if (format === 'junit') {
    const cases = stages.map((s) => {
      const name = stageName(s);
      const time = ((s.durationMs ?? 0) / 1000).toFixed(3);
      const body = failed(s)
        ? `<failure message="${escapeXml(decisionOf(s))}">${escapeXml(`${reasonOf(s)}\nmetrics: ${metricsText(s.metrics)}\nby ${s.outcome?.actor ?? ''}`)}</failure>`
        : `<system-out>${escapeXml(`${[decisionOf(s), reasonOf(s)].filter(Boolean).join(': ')}; metrics: ${metricsText(s.metrics)}; entered by ${s.enteredBy}`)}</system-out>`;
      return `    <testcase classname="rollout.${escapeXml(plan.name)}" name="${escapeXml(name)}" time="${time}">${body}</testcase>`;
    });
    const failures = stages.filter(failed).length;
    return [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuites name="rollout" tests="${stages.length}" failures="${failures}">`,
      `  <testsuite name="${escapeXml(plan.name)}" tests="${stages.length}" failures="${failures}">`,
      ...cases,
      ...(others.length ? [`    <system-out>${escapeXml(others.map((e) => eventLine(e, e.time)).join('\n'))}</system-out>`] : []),
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
      `| ${s.stage ?? '—'} | ${s.percent}% | ${s.attempt} | ${formatTime(s.enteredAt, utc)} | ${escapeCell(s.enteredBy)} | ${s.durationMs === undefined ? '—' : formatDuration(s.durationMs)} | ${escapeCell(metricsText(s.metrics))} | ${escapeCell(decisionOf(s))} | ${escapeCell(reasonOf(s))} |`,
    ),
  ];
  if (stages.length === 0) lines.push('', '_No stage has been applied yet._');
  if (others.length) lines.push('', '## Other events', '', ...others.map((e) => `- ${escapeCell(eventLine(e, formatTime(e.time, utc), '**'))}`));
  return lines.join('\n');
}
