/**
 * Every `--json` document, built in this one place: the contract described by the JSON Schemas in
 * schema/ (json-schemas.ts). Each document carries `schemaVersion` and a `kind`; times are ISO-8601,
 * durations are `…Ms`, and stages are numbered from 1 (`stage`, of `stages`) as the text output does.
 */
import type { Judgement } from '../analysis/judge.js';
import type { Reading } from '../analysis/reading.js';
import type { RunEvent } from '../analysis/run-loop.js';
import { ExitCode, PlanError, RolloutError, type PlanProblem } from '../errors.js';
import type { Delivery } from '../notify/notify.js';
import type { Plan } from '../plan/types.js';
import type { NextStep } from '../rollout/next-step.js';
import type { HistoryEvent, LockHolder, RolloutState, RunRequest } from '../state/types.js';
import type { AdvanceOutcome } from './advance-view.js';
import { decisionOf, failed, planStageOf, stageRecords } from './deployment-report.js';
import type { ListedRollout } from './list-view.js';
import type { StatusSnapshot } from './status-view.js';

/** The version of every document's shape; a change that breaks a reader raises it. */
export const JSON_SCHEMA_VERSION = 1;

/** A document of `kind`: the version and kind first, then its fields. */
export type JsonDocument<K extends string = string> = { schemaVersion: typeof JSON_SCHEMA_VERSION; kind: K } & Record<string, unknown>;

const document = <K extends string>(kind: K, fields: Record<string, unknown>): JsonDocument<K> => ({ schemaVersion: JSON_SCHEMA_VERSION, kind, ...fields });

const iso = (ms: number): string => new Date(ms).toISOString();

/** A duration in whole milliseconds (a monotonic clock measures fractions). */
const duration = (ms: number): number => Math.max(0, Math.round(ms));

/** A stage index (0-based, -1 before the first stage) as the stage number people read (1-based, null before). */
const stageNumber = (stageIndex: number): number | null => (stageIndex >= 0 ? stageIndex + 1 : null);

/** One judged metric: `value` is null when there was no data. */
function readingJson(r: Reading): Record<string, unknown> {
  return {
    name: r.name,
    status: r.status,
    value: r.value ?? null,
    display: r.display,
    reason: r.reason,
    dryRun: r.dryRun,
    ...(r.baseline === undefined ? {} : { baseline: r.baseline, relative: r.relative ?? null }),
    ...(r.comparison ? { comparison: r.comparison } : {}),
  };
}

const nextJson = (next: NextStep) => ({ action: next.action, command: next.command, alternatives: next.alternatives });

const problemJson = (p: PlanProblem) => ({ file: p.file, line: p.line, column: p.col, message: p.message, hint: p.hint ?? null });

/** `status` (and each line of `status --watch`). */
export function statusDocument(s: StatusSnapshot, now: number): JsonDocument<'status'> {
  return document('status', {
    time: iso(now),
    plan: s.plan,
    stage: (s.stage ?? s.recordedStage)?.index ?? null,
    stages: s.recordedStage?.of ?? s.stages,
    percent: s.percent,
    started: s.started,
    completed: s.completed,
    rolledBack: s.rolledBack,
    paused: s.paused ? { by: s.paused.by, reason: s.paused.reason, at: iso(s.paused.at) } : null,
    planChange: s.planChange ?? null,
    emergency: s.emergency ?? null,
    timeInStageMs: s.timeInStageMs === undefined ? null : duration(s.timeInStageMs),
    bakeLeftMs: s.bakeLeftMs === undefined ? null : duration(s.bakeLeftMs),
    bakeRestart: s.bakeRestart ? { at: iso(s.bakeRestart.at), reason: s.bakeRestart.reason } : null,
    target: { percent: s.target.percent ?? null, drift: s.target.drift, message: s.target.message ?? null, error: s.target.error ?? null },
    verdict: s.verdict ?? null,
    reasons: s.reasons,
    readings: s.readings.map(readingJson),
    rollback: s.rollback ? { ...s.rollback, recovered: s.rollback.recovered ?? null, recovery: s.rollback.recovery ?? null } : null,
    next: nextJson(s.next),
    exitCode: s.exitCode,
  });
}

/** `check`: one judgement. */
export function checkDocument(plan: Plan, judgement: Judgement, exitCode: number, now: number): JsonDocument<'check'> {
  return document('check', {
    time: iso(now),
    plan: plan.name,
    verdict: judgement.verdict,
    reasons: judgement.reasons,
    inWarmup: judgement.warmingUp,
    readings: judgement.readings.map(readingJson),
    exitCode,
  });
}

/** `advance`: what it did (or with --dry-run would do). */
export function advanceDocument(plan: Plan, o: AdvanceOutcome, exitCode: number): JsonDocument<'advance'> {
  return document('advance', {
    plan: plan.name,
    action: o.action,
    dryRun: o.dryRun ?? false,
    from: o.from,
    to: o.to,
    stage: stageNumber(o.stageIndex),
    stages: plan.stages.length,
    reason: o.reason,
    verdict: o.judgement?.verdict ?? null,
    readings: (o.judgement?.readings ?? []).map(readingJson),
    exitCode,
  });
}

/** `hold`: the pause it recorded, at the stage and percentage of `state`. */
export function holdDocument(plan: Plan, state: RolloutState, paused: NonNullable<RolloutState['paused']>): JsonDocument<'hold'> {
  const at = { stage: stageNumber(state.stageIndex), percent: state.percent };
  return document('hold', { plan: plan.name, action: 'hold', askedRun: false, ...at, paused: { by: paused.by, reason: paused.reason, at: iso(paused.at) } });
}

/** `resume`: lifted the hold, or `none` when there was none; at the stage and percentage of `state`. */
export function resumeDocument(plan: Plan, state: RolloutState, resumed: boolean): JsonDocument<'resume'> {
  const at = { stage: stageNumber(state.stageIndex), percent: state.percent };
  return document('resume', { plan: plan.name, action: resumed ? 'resume' : 'none', askedRun: false, ...at, reason: resumed ? null : 'not paused' });
}

const deliveryJson = (d: Delivery) => ({ type: d.type, to: d.to, ok: d.ok, error: d.error ?? null });

/** `rollback`: a planned rollback, to the stage of index `toStage` (-1: 0 %, before the first stage). */
export function rollbackDocument(plan: Plan, r: { from: number; to: number; toStage: number; reason: string; recovered?: boolean; deliveries: Delivery[] }): JsonDocument<'rollback'> {
  return document('rollback', {
    plan: plan.name,
    action: 'rollback',
    askedRun: false,
    from: r.from,
    to: r.to,
    stage: stageNumber(r.toStage),
    reason: r.reason,
    recovered: r.recovered ?? null,
    notifications: r.deliveries.map(deliveryJson),
  });
}

/** `rollback --emergency`: `from` is null when state could not be read, `readBack` when the target cannot be. */
export function emergencyRollbackDocument(
  plan: Plan,
  e: { ok: boolean; from?: number; readBack?: number; problems: string[]; tookOverFrom?: LockHolder; deliveries: Delivery[]; failure?: string },
): JsonDocument<'rollback'> {
  return document('rollback', {
    plan: plan.name,
    action: 'emergency-rollback',
    askedRun: false,
    from: e.from ?? null,
    to: 0,
    ok: e.ok,
    failure: e.failure ?? null,
    readBack: e.readBack ?? null,
    warnings: e.problems,
    tookOverFrom: e.tookOverFrom ?? null,
    notifications: e.deliveries.map(deliveryJson),
  });
}

/** A command handed to the run that holds the lock, and the run's answer; `approve` is asked by `advance`. */
export function askedRunDocument(plan: Plan, request: RunRequest['kind'], answer: { applied: boolean; message: string; exitCode: number }): JsonDocument {
  const kind = request === 'approve' ? 'advance' : request;
  return document(kind, { plan: plan.name, action: request, askedRun: true, applied: answer.applied, message: answer.message, exitCode: answer.exitCode });
}

/** `history`: every event, oldest first. */
export function historyDocument(plan: Plan, events: HistoryEvent[]): JsonDocument<'history'> {
  return document('history', { plan: plan.name, events: events.map((e) => eventJson(plan, e)) });
}

/**
 * A history event: its fields in a fixed order, `verdict` null when it was not judged. History
 * records percentages only, so `stage` is the plan's stage at `to` (null at 0 % or a percentage
 * the plan does not have).
 */
function eventJson(plan: Pick<Plan, 'stages'>, e: HistoryEvent): Record<string, unknown> {
  const stage = planStageOf(plan, e.to);
  return { time: e.time, plan: e.plan, actor: e.actor, action: e.action, from: e.from, to: e.to, stage, verdict: e.verdict ?? null, metrics: e.metrics, reason: e.reason };
}

/** `list`: every rollout of a store; `exitCode` is the worst rollout's. */
export function listDocument(where: string, rows: ListedRollout[], exitCode: number): JsonDocument<'list'> {
  return document('list', {
    where,
    rollouts: rows.map((r) => ({
      name: r.name,
      stage: r.stage,
      stages: r.stages ?? null,
      percent: r.percent,
      status: r.status,
      detail: r.detail ?? null,
      timeInStageMs: r.timeInStageMs === undefined ? null : duration(r.timeInStageMs),
      targetPercent: r.targetPercent ?? null,
      lockHolder: r.lockHolder ?? null,
      exitCode: r.exitCode,
    })),
    exitCode,
  });
}

/** `report --format json`: the deployment log, a record per stage entered (its plan stage, from 1, and attempt), and the events. */
export function reportDocument(plan: Plan, history: HistoryEvent[]): JsonDocument<'report'> {
  const events = plan.secrets.redactDeep(history);
  const stages = stageRecords(events, plan).map((s) => ({
    stage: s.stage,
    percent: s.percent,
    attempt: s.attempt,
    enteredAt: s.enteredAt,
    enteredBy: s.enteredBy,
    entry: s.entry,
    durationMs: s.durationMs === undefined ? null : duration(s.durationMs),
    outcome: s.outcome ? eventJson(plan, s.outcome) : null,
    metrics: s.metrics,
    notes: s.notes.map((e) => eventJson(plan, e)),
    decision: decisionOf(s),
    failed: failed(s),
  }));
  return document('report', { plan: plan.name, description: plan.description ? plan.secrets.redact(plan.description) : null, stages, events: events.map((e) => eventJson(plan, e)) });
}

/** `validate`: a valid plan's summary, or (exit 2) every problem; warnings either way. */
export function validateDocument(
  file: string,
  result: { plan: Plan; problems?: undefined } | { plan?: undefined; problems: PlanProblem[] },
  warnings: PlanProblem[],
): JsonDocument<'validate'> {
  const { plan } = result;
  return document('validate', {
    file,
    valid: plan !== undefined,
    plan: plan?.name ?? null,
    stages: plan?.stages.map((s) => s.percent) ?? [],
    metrics: plan?.metrics.map((m) => m.name) ?? [],
    target: plan?.target.type ?? null,
    problems: (result.problems ?? []).map(problemJson),
    warnings: warnings.map(problemJson),
    exitCode: plan ? ExitCode.ok : ExitCode.invalid,
  });
}

/** Any command's failure with --json: the message, the hint, the exit code, and a plan's problems. */
export function errorDocument(err: unknown, exitCode: number, hint: string | undefined): JsonDocument<'error'> {
  return document('error', {
    message: err instanceof Error ? err.message : String(err),
    hint: hint ?? null,
    problems: err instanceof PlanError ? err.problems.map(problemJson) : [],
    exitCode: err instanceof RolloutError ? err.exitCode : exitCode,
  });
}

/** One line of `run --json`: what happened, when, at which stage. History events keep their own time. */
export function runEventDocument(plan: Plan, event: RunEvent, now: number): JsonDocument {
  switch (event.type) {
    case 'event':
      return document('event', eventJson(plan, event.event));
    case 'run-start':
      return document('run-start', { time: iso(now), plan: event.plan, stage: stageNumber(event.stageIndex), stages: event.stages, percent: event.percent, resumed: event.resumed });
    case 'poll':
      return document('poll', {
        time: iso(now),
        stage: stageNumber(event.stageIndex),
        stages: plan.stages.length,
        percent: event.percent,
        enteredAt: iso(event.enteredAt),
        bakeMs: duration(event.bakeMs),
        bakeLeftMs: duration(event.bakeLeftMs),
        verdict: event.verdict,
        reasons: event.reasons,
        readings: event.readings.map(readingJson),
        decision: event.decision,
        reason: event.reason,
        consecutiveCritical: event.consecutiveCritical,
      });
    case 'run-end': {
      const { type, stageIndex, ...fields } = event;
      return document(type, { time: iso(now), ...fields, stage: stageNumber(stageIndex) });
    }
    case 'recovery':
      return document('recovery', { time: iso(now), recovered: event.recovered, reason: event.reason, watchedMs: duration(event.watchedMs) });
    default: {
      const { type, ...fields } = event;
      return document(type, { time: iso(now), ...fields });
    }
  }
}

/** `init`: the plan it wrote, and the variables it reads (`unset`: not set here). */
export function initDocument(fields: { file: string; name: string; stages: number[]; bake: string; target: string; source: string | null; metrics: unknown[]; variables: string[]; unset: string[] }): JsonDocument<'init'> {
  return document('init', fields);
}

/** `state migrate`: what was copied where; `state` is where the rollout stands, null before its first write. */
export function stateMigrateDocument(
  plan: Plan,
  m: { from: string; to: string; copied: boolean; state: RolloutState | undefined; events: number },
): JsonDocument<'state-migrate'> {
  const state = m.state && { stage: stageNumber(m.state.stageIndex), stages: plan.stages.length, percent: m.state.percent, completed: m.state.completed, rolledBack: m.state.rolledBack };
  return document('state-migrate', { plan: plan.name, from: m.from, to: m.to, copied: m.copied, state: state ?? null, events: m.events });
}

/** One of the demo's own lines (between the lines of its runs): `demo-start`, `demo-run`, `demo-result`, `demo-keep`. */
export function demoDocument(kind: `demo-${string}`, fields: Record<string, unknown>): JsonDocument {
  return document(kind, fields);
}
