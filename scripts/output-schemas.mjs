// The JSON Schemas of every `--json` document (src/cli/json-documents.ts builds them), one file per
// command output in schema/. Run `node scripts/output-schemas.mjs` after changing a document's
// shape; test/cli/json-contract.test.ts checks the files match and that real output validates.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

const string = { type: 'string' };
const boolean = { type: 'boolean' };
const number = { type: 'number' };
const ms = { type: 'integer', minimum: 0, description: 'a duration in milliseconds' };
const time = { type: 'string', format: 'date-time', description: 'ISO-8601, UTC' };
const percent = { type: 'number', minimum: 0, maximum: 100 };
const nullable = (schema) => ({ anyOf: [schema, { type: 'null' }] });
const array = (items) => ({ type: 'array', items });
const strings = array(string);
const exitCode = { enum: [0, 1, 2, 3, 4, 5, 6, 130], description: 'the exit code (README: exit codes)' };
const stage = { ...nullable({ type: 'integer', minimum: 1 }), description: 'the stage, numbered from 1 as the text output does; null before the first stage' };
const stages = { type: 'integer', minimum: 1, description: 'how many stages the plan has' };
const verdict = { enum: ['healthy', 'hold', 'critical'] };
const eventAction = { enum: ['start', 'advance', 'hold', 'resume', 'rollback', 'emergency-rollback', 'complete', 'drift', 'force', 'recovered', 'not-recovered'] };

/** An object with exactly these properties, all required unless listed in `optional`. */
const object = (properties, optional = []) => ({
  type: 'object',
  properties,
  required: Object.keys(properties).filter((key) => !optional.includes(key)),
  additionalProperties: false,
});

/** A document: `schemaVersion` and `kind` first, then its fields. */
const documentOf = (kind, properties, optional = []) =>
  object({ schemaVersion: { const: 1, description: 'raised when the shape changes in a way that breaks a reader' }, kind: { const: kind }, ...properties }, optional);

const reading = object(
  {
    name: string,
    status: { enum: ['ok', 'warning', 'critical', 'nodata', 'undecided'] },
    value: { ...nullable(number), description: 'null when the metric had no data' },
    display: { ...string, description: 'the value as people read it, e.g. "1.23%"' },
    reason: string,
    dryRun: boolean,
    baseline: number,
    relative: nullable(number),
    comparison: object({ canaryEvents: number, canaryTotal: number, baselineEvents: number, baselineTotal: number, sureWorse: number, sureNotWorse: number }),
  },
  ['baseline', 'relative', 'comparison'],
);

const historyEvent = {
  time,
  plan: string,
  actor: string,
  action: eventAction,
  from: percent,
  to: percent,
  stage: { ...stage, description: "the plan's stage at `to`, numbered from 1 (history records percentages only); null at 0% or at a percentage the plan does not have" },
  verdict: nullable({ enum: ['healthy', 'hold', 'critical', 'skipped'] }),
  metrics: { type: 'object', additionalProperties: nullable(number), description: 'metric name → value (null: no data)' },
  reason: string,
};

const nextAction = {
  action: { enum: ['emergency-rollback', 'fix-target', 'adopt', 'rollback', 'investigate', 'start', 'advance', 'complete', 'none', 'resume', 'wait', 'watch'] },
  command: { ...nullable({ type: 'string', pattern: '^rollout ' }), description: 'the exact shell command; null when there is nothing to run' },
};
const next = object({ ...nextAction, alternatives: array(object({ ...nextAction, command: { type: 'string', pattern: '^rollout ' } })) });

const problem = object({ file: string, line: { type: 'integer', minimum: 1 }, column: { type: 'integer', minimum: 1 }, message: string, hint: nullable(string) });

const notification = object({ type: string, to: string, ok: boolean, error: nullable(string) });

const lockHolder = object({ actor: string, pid: { type: 'integer' }, host: string, since: time, command: string });

/** A command handed to the `run` holding the lock (and its answer), instead of done by the command itself. */
const askedRun = (kind, action) => documentOf(kind, { plan: string, action: { const: action }, askedRun: { const: true }, applied: boolean, message: string, exitCode });

const error = documentOf('error', { message: string, hint: nullable(string), problems: { ...array(problem), description: "an invalid plan's problems; empty otherwise" }, exitCode });

const runLines = [
  documentOf('run-start', { time, plan: string, stage, stages, percent, resumed: boolean }),
  documentOf('poll', {
    time,
    stage,
    stages,
    percent,
    enteredAt: { ...time, description: 'when the stage was entered (its bake starts here)' },
    bakeMs: ms,
    bakeLeftMs: ms,
    verdict,
    reasons: strings,
    readings: array(reading),
    decision: { enum: ['start', 'advance', 'complete', 'done', 'hold', 'critical', 'rollback', 'wait-approval', 'fail', 'warmup', 'standing-by'] },
    reason: string,
    consecutiveCritical: { type: 'integer', minimum: 0 },
  }),
  documentOf('event', historyEvent),
  documentOf('notify-failed', { time, action: eventAction, receiver: string, to: string, error: string }),
  documentOf('recovery', { time, recovered: boolean, reason: string, watchedMs: ms }),
  documentOf('store-unavailable', { time, percent, reason: string }),
  documentOf('run-end', {
    time,
    outcome: { enum: ['complete', 'until', 'paused', 'approval', 'max-hold', 'timeout', 'rolled-back', 'interrupted'], description: 'interrupted: stopped by SIGINT, SIGTERM or SIGHUP (exit 130), state and target agreeing' },
    exitCode,
    percent,
    reason: string,
    stage: { ...stage, description: 'where the run left the rollout, numbered from 1; null before the first stage' },
  }),
];

/** How one demo scenario ended. */
const demoOutcome = { scenario: string, plan: string, exitCode, percent, criticalBlips: { type: 'integer', minimum: 0 }, durationMs: { ...ms, description: 'how long the run took, in milliseconds' }, ok: boolean };

const demoLines = [
  documentOf('demo-start', { url: string, flag: string, metrics: string, summary: string, dir: string }),
  documentOf('demo-run', { scenario: string, plan: string, expected: string }),
  documentOf('demo-result', demoOutcome),
  documentOf('demo-keep', { url: string, plan: string, scenario: string }),
  documentOf('demo-end', { ok: boolean, outcomes: array(object(demoOutcome)) }),
];

const rollback = documentOf('rollback', {
  plan: string,
  action: { const: 'rollback' },
  askedRun: { const: false },
  from: percent,
  to: percent,
  stage: { ...stage, description: 'the stage rolled back to, numbered from 1; null for 0% (before the first stage)' },
  reason: string,
  recovered: nullable(boolean),
  notifications: array(notification),
});
const emergency = documentOf('rollback', {
  plan: string,
  action: { const: 'emergency-rollback' },
  askedRun: { const: false },
  from: { ...nullable(percent), description: 'null when state could not be read' },
  to: { const: 0 },
  ok: { ...boolean, description: 'false: the target is not known to be at 0% (the command exits 6)' },
  failure: { ...nullable(string), description: 'why the target is not known to be at 0%, when ok is false' },
  readBack: { ...nullable(percent), description: 'what the target read back; null when it cannot be read' },
  warnings: strings,
  tookOverFrom: nullable(lockHolder),
  notifications: array(notification),
});

/** A schema file: the draft, a title, and one document shape or one of several. */
const file = (title, description, ...shapes) => ({ $schema: DRAFT, title, description, ...(shapes.length === 1 ? shapes[0] : { oneOf: shapes }) });

/** Every command output's schema, by file name (without `.schema.json`). */
export function outputSchemas() {
  return {
    validate: file('rollout validate --json', 'A valid plan summarised, or (exit 2) every problem with its file, line and column.', documentOf('validate', {
      file: string,
      valid: boolean,
      plan: nullable(string),
      stages: array(percent),
      metrics: strings,
      target: nullable(string),
      problems: array(problem),
      warnings: array(problem),
      exitCode,
    })),
    status: file('rollout status --json', 'One document; with --watch, one per refresh, one per line (JSON lines).', documentOf('status', {
      time,
      plan: string,
      stage: {
        ...stage,
        description: 'the stage, numbered from 1; null before the first stage. Under a plan change (planChange set), the stage state records, of the stages it was written under (null when that state does not record its stages)',
      },
      stages: { ...stages, description: "how many stages the plan has; under a plan change, how many state records" },
      percent,
      started: boolean,
      completed: boolean,
      rolledBack: boolean,
      paused: nullable(object({ by: string, reason: string, at: time })),
      planChange: { ...nullable(string), description: 'why the plan no longer fits the state' },
      emergency: { ...nullable(string), description: 'an unfinished emergency rollback' },
      timeInStageMs: nullable(ms),
      bakeLeftMs: nullable(ms),
      bakeRestart: nullable(object({ at: time, reason: string })),
      target: object({ percent: nullable(percent), drift: boolean, message: nullable(string), error: nullable(string) }),
      verdict: nullable(verdict),
      reasons: strings,
      readings: array(reading),
      rollback: nullable(object({ action: { enum: ['rollback', 'emergency-rollback'] }, at: time, by: string, reason: string, from: percent, to: percent, recovered: nullable(boolean), recovery: nullable(string) })),
      next,
      exitCode,
    })),
    check: file('rollout check --json', 'One judgement of every metric.', documentOf('check', { time, plan: string, verdict, reasons: strings, inWarmup: boolean, readings: array(reading), exitCode })),
    advance: file(
      'rollout advance --json',
      'What the advance did (with --dry-run: would do), or the answer of the run it was handed to.',
      documentOf('advance', {
        plan: string,
        action: { enum: ['start', 'advance', 'force', 'complete', 'done', 'critical', 'hold'] },
        dryRun: boolean,
        from: percent,
        to: percent,
        stage: { ...stage, description: 'where the rollout is afterwards (with --dry-run: would be): the stage entered (start, advance, force), else the current stage; numbered from 1, null before the first stage' },
        stages,
        reason: string,
        verdict: nullable(verdict),
        readings: array(reading),
        exitCode,
      }),
      askedRun('advance', 'approve'),
    ),
    hold: file(
      'rollout hold --json',
      'The pause recorded, or the answer of the run it was handed to.',
      documentOf('hold', { plan: string, action: { const: 'hold' }, askedRun: { const: false }, stage, percent, paused: object({ by: string, reason: string, at: time }) }),
      askedRun('hold', 'hold'),
    ),
    resume: file(
      'rollout resume --json',
      'The hold lifted (`none`: there was none), or the answer of the run it was handed to.',
      documentOf('resume', { plan: string, action: { enum: ['resume', 'none'] }, askedRun: { const: false }, stage, percent, reason: nullable(string) }),
      askedRun('resume', 'resume'),
    ),
    rollback: file('rollout rollback --json', 'A planned rollback, an emergency rollback (--emergency), or the answer of the run it was handed to.', rollback, emergency, askedRun('rollback', 'rollback')),
    run: file(
      'rollout run --json',
      'JSON lines: one document per line, one per event as the run goes. A run ends with run-end, also when interrupted (outcome interrupted, exit 130); a run that fails, or is stopped before its first line, ends with an error document (error.schema.json).',
      ...runLines,
    ),
    history: file('rollout history --json', 'Every event of the rollout, oldest first.', documentOf('history', { plan: string, events: array(object(historyEvent)) })),
    list: file('rollout list --json', 'Every rollout of a state dir or database; exitCode is the worst rollout\'s.', documentOf('list', {
      where: string,
      rollouts: array(object({
        name: string,
        stage,
        stages: { ...nullable(stages), description: 'how many stages the rollout has, as its state records them; null when it records none (not started)' },
        percent,
        status: { enum: ['not started', 'baking', 'complete', 'held', 'paused', 'rolled back', 'drift', 'emergency', 'unreadable'] },
        detail: nullable(string),
        timeInStageMs: nullable(ms),
        targetPercent: nullable(percent),
        lockHolder: nullable(lockHolder),
        exitCode,
      })),
      exitCode,
    })),
    report: file('rollout report --format json', 'The deployment log: a record per stage as it happened, and every event.', documentOf('report', {
      plan: string,
      description: nullable(string),
      stages: array(object({
        stage: { ...stage, description: "the plan's stage, numbered from 1; null for a percentage the plan no longer has" },
        percent,
        attempt: { type: 'integer', minimum: 1, description: 'which time this stage was entered, from 1' },
        enteredAt: time,
        enteredBy: string,
        entry: eventAction,
        durationMs: nullable(ms),
        outcome: nullable(object(historyEvent)),
        metrics: historyEvent.metrics,
        notes: array(object(historyEvent)),
        decision: string,
        failed: boolean,
      })),
      events: array(object(historyEvent)),
    })),
    'state-migrate': file('rollout state migrate --json', 'What was copied from where to where.', documentOf('state-migrate', {
      plan: string,
      from: string,
      to: string,
      copied: boolean,
      state: nullable(object({ stage, stages, percent, completed: boolean, rolledBack: boolean })),
      events: { type: 'integer', minimum: 0 },
    })),
    init: file('rollout init --json', 'The plan written, and the variables it reads.', documentOf('init', {
      file: string,
      name: string,
      stages: array(percent),
      bake: string,
      target: string,
      source: nullable(string),
      metrics: array({ type: 'object' }),
      variables: strings,
      unset: strings,
    })),
    demo: file('rollout demo --json', "JSON lines: the demo's own documents between those of its runs (run.schema.json).", ...demoLines, ...runLines),
    error: file('any command --json, when it fails', 'What went wrong, what to do next, and the exit code; an invalid plan lists every problem.', error),
  };
}

// Run directly: (re)write the files.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, schema] of Object.entries(outputSchemas())) {
    writeFileSync(fileURLToPath(new URL(`../schema/${name}.schema.json`, import.meta.url)), `${JSON.stringify(schema, null, 2)}\n`);
  }
}
