/**
 * `rollout init`'s answers → a commented plan file. The comments explain each choice to the
 * person who will edit the file next; the text is checked by the real loader before it is written.
 */
import { parseDuration } from '../plan/duration.js';
import type { CommonMetricId, SourceInit, SourceKind } from '../sources/kinds/kind.js';
import type { InitTarget, TargetKind } from '../targets/kinds/kind.js';
import { bearer, yamlString } from './init-questions.js';

/** A source type `init` offers: one with questions of its own. */
export type InitSourceKind = SourceKind & { init: SourceInit };

/** Whether `init` offers this source or target type. */
export function offeredByInit<Kind extends SourceKind | TargetKind>(kind: Kind): kind is Kind & { init: NonNullable<Kind['init']> } {
  return kind.init !== undefined;
}

/** One chosen metric with its limits as written in the plan. */
export interface MetricAnswer {
  id: CommonMetricId;
  warning: string;
  critical: string;
}

/** Everything `init` needs to write a plan. */
export interface InitAnswers {
  name: string;
  /** The target's type and its lines, as its type wrote them from the answers to its questions. */
  target: { type: string } & InitTarget;
  stages: number[];
  bake: string;
  source?: { kind: InitSourceKind; url: string; tokenEnv?: string };
  metrics: MetricAnswer[];
}

/** One common metric: its flags and the runbooks' limits (each source type says how to read it). */
export interface CommonMetric {
  label: string;
  /** Prefix of its limit flags: --<flag>-warning, --<flag>-critical. */
  flag: string;
  /** From the runbooks' warning/critical table (error rate 1 %/5 %, p95 5 s/10 s, average 3 s/5 s). */
  warning: string;
  critical: string;
}

/** The metrics `init` offers; their queries come from the source types (src/sources/kinds/). */
export const COMMON_METRICS: Record<CommonMetricId, CommonMetric> = {
  error_rate: { label: 'error rate', flag: 'error-rate', warning: '> 1%', critical: '> 5%' },
  p95_latency: { label: 'p95 latency', flag: 'p95-latency', warning: '> 5s', critical: '> 10s' },
  avg_response_time: { label: 'average response time', flag: 'avg-response-time', warning: '> 3s', critical: '> 5s' },
};

/** The environment variables the answers refer to (`${VAR}` in the plan). */
export function referencedVariables(answers: InitAnswers): string[] {
  return [answers.source?.tokenEnv, ...answers.target.variables].filter((n): n is string => n !== undefined);
}

/** Renders the commented plan; `schemaRef` is the path or URL for the editor's schema header. */
export function renderPlan(answers: InitAnswers, schemaRef: string): string {
  const q = yamlString;
  const variables = referencedVariables(answers);
  const { interval, warmup } = pacing(parseDuration(answers.bake) ?? DEFAULT_BAKE_MS);
  const lines = [
    `# yaml-language-server: $schema=${schemaRef}`,
    '#',
    '# Written by `rollout init`. Check it with `rollout validate`; `rollout schema` describes every key.',
    ...(variables.length > 0
      ? ['#', '# Environment variables this plan needs (an unset one is an error that names it):', ...variables.map((v) => `#   ${v}`)]
      : []),
    'version: 1',
    `name: ${q(answers.name)}`,
    '',
    '# Each stage is applied, then must stay healthy for its bake time before the next one.',
    `stages: [${answers.stages.join(', ')}]`,
    '',
    'analysis:',
    `  interval: ${pad(interval)}# how often the metrics are read while a stage bakes`,
    `  bake: ${pad(answers.bake, 15)}# bake time of every stage; write { percent: 50, bake: 2h } for one of its own`,
    '  failureLimit: 2      # critical readings in a row before `rollout run` rolls back (one blip is not enough)',
    '  noData: hold         # a metric that cannot be read holds the stage; missing data never advances',
    `  warmup: ${pad(warmup, 13)}# readings just after a change are shown but not judged`,
    '  maxHold: 24h         # how long a warning may hold a stage...',
    '  onMaxHold: fail      # ...before `rollout run` stops and leaves the decision to a person (exit 3)',
    '',
    'rollback:',
    '  to: 0                # or `previous` for the stage before the current one',
    '',
    ...sourceLines(answers),
    ...answers.target.lines,
  ];
  return `${lines.join('\n')}\n`;
}

const DEFAULT_BAKE_MS = 30 * 60_000;

/**
 * Poll period and warm-up for a bake: 30s and 1m for bakes of half an hour and more, shorter for
 * short bakes, so that a 10s trial bake is not held for a minute of warm-up.
 */
function pacing(bakeMs: number): { interval: string; warmup: string } {
  const seconds = (ms: number) => Math.round(ms / 1000);
  const interval = Math.min(30, Math.max(1, seconds(bakeMs / 10)));
  const warmup = Math.min(60, seconds(bakeMs / 4));
  return { interval: `${interval}s`, warmup: warmup === 60 ? '1m' : `${warmup}s` };
}

/** The value and the spaces that line its comment up with the others. */
function pad(value: string, width = 11): string {
  return value + ' '.repeat(Math.max(1, width - value.length));
}

function sourceLines(answers: InitAnswers): string[] {
  const source = answers.source;
  if (!source || answers.metrics.length === 0) {
    return [
      '# No metrics: every stage advances once its bake time is over. Add `sources:` and `metrics:`',
      '# (see `rollout schema` and rollout-plans/) so that a bad change is held or rolled back.',
      '',
    ];
  }
  const q = yamlString;
  const { kind } = source;
  const auth = source.tokenEnv
    ? [`    headers: { Authorization: ${bearer(source.tokenEnv)} }`]
    : ['    # headers: { Authorization: "Bearer ${METRICS_TOKEN}" }   # if the source needs a token'];
  const lines = ['sources:', '  app:', `    type: ${kind.type}`, `    url: ${q(source.url)}`, ...auth, '    timeout: 5s', '', 'metrics:'];
  lines.push(...kind.init.assumptions.map((line) => `  # ${line}`));
  lines.push('  # The limits are the runbooks\' warning/critical table; a warning holds, a critical rolls back.');
  for (const m of answers.metrics) {
    const query = kind.init.queries[m.id];
    lines.push(
      `  - name: ${m.id}`,
      `    source: app`,
      `    ${kind.query.field}: ${q(query.text)}`,
      `    unit: ${query.unit}`,
      `    warning: ${q(m.warning)}`,
      `    critical: ${q(m.critical)}`,
    );
  }
  lines.push('');
  return lines;
}
