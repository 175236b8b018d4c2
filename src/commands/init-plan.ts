/**
 * `rollout init`'s answers → a commented plan file. The comments explain each choice to the
 * person who will edit the file next; the text is checked by the real loader before it is written.
 */
import { parseDuration } from '../plan/duration.js';

/** The common metrics `init` offers, keyed by the name they get in the plan. */
export type MetricId = 'error_rate' | 'p95_latency' | 'avg_response_time';

/** Where the metrics come from; `none` writes a plan judged by bake time alone. */
export type SourceType = 'prometheus' | 'json' | 'exposition';

/** How the percentage is applied. Secrets are asked for as variable names, never as values. */
export type TargetAnswers =
  | { type: 'env-file'; path: string; key: string }
  | { type: 'http'; url: string; method: 'PUT' | 'POST' | 'PATCH'; readBackPath?: string; tokenEnv?: string }
  | { type: 'unleash'; url: string; project: string; feature: string; environment: string; tokenEnv: string }
  | { type: 'command'; set: string[]; get?: string[] };

/** The type names of the targets, in the order the wizard offers them. */
export const TARGET_TYPES = ['env-file', 'http', 'unleash', 'command'] as const;

/** One chosen metric with its limits as written in the plan. */
export interface MetricAnswer {
  id: MetricId;
  warning: string;
  critical: string;
}

/** Everything `init` needs to write a plan. */
export interface InitAnswers {
  name: string;
  target: TargetAnswers;
  stages: number[];
  bake: string;
  source?: { type: SourceType; url: string; tokenEnv?: string };
  metrics: MetricAnswer[];
}

interface MetricQuery {
  unit: 'ratio' | 'seconds' | 'milliseconds';
  /** `query:` for prometheus, `expr:` for exposition, `path:` for json. */
  text: string;
}

/** One common metric: how to read it from each kind of source, and the runbooks' limits. */
export interface CommonMetric {
  label: string;
  /** Prefix of its limit flags: --<flag>-warning, --<flag>-critical. */
  flag: string;
  /** From the runbooks' warning/critical table (error rate 1 %/5 %, p95 5 s/10 s, average 3 s/5 s). */
  warning: string;
  critical: string;
  queries: Record<SourceType, MetricQuery>;
}

/** The metrics `init` offers, with a query for each kind of source. */
export const COMMON_METRICS: Record<MetricId, CommonMetric> = {
  error_rate: {
    label: 'error rate',
    flag: 'error-rate',
    warning: '> 1%',
    critical: '> 5%',
    queries: {
      prometheus: {
        unit: 'ratio',
        text: 'sum(rate(http_requests_total{variant="canary",status=~"5.."}[5m])) / sum(rate(http_requests_total{variant="canary"}[5m]))',
      },
      // 1 - (non-5xx share): a 5xx selector matches nothing until the first error, which would read as "no data".
      exposition: {
        unit: 'ratio',
        text: '1 - sum(increase(http_requests_total{variant="canary",status!~"5.."})) / sum(increase(http_requests_total{variant="canary"}))',
      },
      json: { unit: 'ratio', text: 'errorRate' },
    },
  },
  p95_latency: {
    label: 'p95 latency',
    flag: 'p95-latency',
    warning: '> 5s',
    critical: '> 10s',
    queries: {
      prometheus: { unit: 'seconds', text: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{variant="canary"}[5m])))' },
      exposition: { unit: 'seconds', text: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{variant="canary"})))' },
      json: { unit: 'milliseconds', text: 'p95ResponseTime' },
    },
  },
  avg_response_time: {
    label: 'average response time',
    flag: 'avg-response-time',
    warning: '> 3s',
    critical: '> 5s',
    queries: {
      prometheus: {
        unit: 'seconds',
        text: 'sum(rate(http_request_duration_seconds_sum{variant="canary"}[5m])) / sum(rate(http_request_duration_seconds_count{variant="canary"}[5m]))',
      },
      exposition: {
        unit: 'seconds',
        text: 'sum(increase(http_request_duration_seconds_sum{variant="canary"})) / sum(increase(http_request_duration_seconds_count{variant="canary"}))',
      },
      json: { unit: 'milliseconds', text: 'avgResponseTime' },
    },
  },
};

/** The environment variables the answers refer to (`${VAR}` in the plan). */
export function referencedVariables(answers: InitAnswers): string[] {
  const names = [answers.source?.tokenEnv];
  if (answers.target.type === 'http') names.push(answers.target.tokenEnv);
  if (answers.target.type === 'unleash') names.push(answers.target.tokenEnv);
  return names.filter((n): n is string => n !== undefined);
}

/** Renders the commented plan; `schemaRef` is the path or URL for the editor's schema header. */
export function renderPlan(answers: InitAnswers, schemaRef: string): string {
  const q = quote;
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
    ...targetLines(answers.target),
  ];
  return `${lines.join('\n')}\n`;
}

/** A YAML string: single-quoted when it holds double quotes (PromQL selectors read better so). */
function quote(text: string): string {
  return text.includes('"') ? `'${text.replace(/'/g, "''")}'` : JSON.stringify(text);
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
  const q = quote;
  const auth = source.tokenEnv
    ? [`    headers: { Authorization: ${q(`Bearer \${${source.tokenEnv}}`)} }`]
    : ['    # headers: { Authorization: "Bearer ${METRICS_TOKEN}" }   # if the source needs a token'];
  const lines = ['sources:', '  app:', `    type: ${source.type}`, `    url: ${q(source.url)}`, ...auth, '    timeout: 5s', '', 'metrics:'];
  lines.push(...ASSUMPTIONS[source.type].map((line) => `  # ${line}`));
  lines.push('  # The limits are the runbooks\' warning/critical table; a warning holds, a critical rolls back.');
  for (const m of answers.metrics) {
    const common = COMMON_METRICS[m.id];
    const query = common.queries[source.type];
    lines.push(
      `  - name: ${m.id}`,
      `    source: app`,
      `    ${QUERY_KEY[source.type]}: ${q(query.text)}`,
      `    unit: ${query.unit}`,
      `    warning: ${q(m.warning)}`,
      `    critical: ${q(m.critical)}`,
    );
  }
  lines.push('');
  return lines;
}

const QUERY_KEY: Record<SourceType, string> = { prometheus: 'query', exposition: 'expr', json: 'path' };

const ASSUMPTIONS: Record<SourceType, string[]> = {
  prometheus: ['The queries assume requests labelled variant="canary"|"stable"; adjust names and labels to yours.'],
  exposition: [
    'Expressions are computed from the last two scrapes of the page (one interval apart), and assume',
    'requests labelled variant="canary"|"stable"; adjust names and labels to yours.',
  ],
  json: [
    'Paths into the JSON document (dotted, [n] for array items); point them at your fields. A rate',
    'given in percent (0.5 = 0.5 %) needs unit: percent; times in seconds need unit: seconds.',
  ],
};

function targetLines(target: TargetAnswers): string[] {
  const q = quote;
  const argv = (list: string[]) => `[${list.map((a) => q(a)).join(', ')}]`;
  switch (target.type) {
    case 'env-file':
      return [
        '# One line of the file is rewritten (comments, order and other keys kept), atomically, with the',
        '# previous file kept as <path>.bak. A relative path resolves against this plan\'s directory.',
        'target:',
        '  type: env-file',
        `  path: ${q(target.path)}`,
        `  key: ${q(target.key)}`,
        '  # If the app reads the file only at start-up, restart it after each change (no shell):',
        '  # after: [docker-compose, up, -d]',
      ];
    case 'http': {
      const auth = target.tokenEnv ? [`    headers: { Authorization: ${q(`Bearer \${${target.tokenEnv}}`)} }`] : [];
      const get = target.readBackPath
        ? ['  # Read back after every change (it must match) and before every command (drift check).', '  get:', `    url: ${q(target.url)}`, ...auth, `    path: ${q(target.readBackPath)}`]
        : ['  # Without `get`, a change cannot be confirmed and drift cannot be detected; add one if the API can.'];
      return [
        'target:',
        '  type: http',
        '  # The body your flag API expects; "{{percent}}" is sent as the number.',
        '  set:',
        `    method: ${target.method}`,
        `    url: ${q(target.url)}`,
        ...auth,
        '    body: { percentage: "{{percent}}" }',
        ...get,
      ];
    }
    case 'unleash':
      return [
        '# Sets the `rollout` parameter of the feature\'s flexibleRollout strategy in the environment.',
        'target:',
        '  type: unleash',
        `  url: ${q(target.url)}`,
        `  token: ${q(`\${${target.tokenEnv}}`)}    # an Admin API token, read from the environment`,
        `  project: ${q(target.project)}`,
        `  feature: ${q(target.feature)}`,
        `  environment: ${q(target.environment)}`,
      ];
    case 'command':
      return [
        '# Run without a shell; "{{percent}}" becomes the percentage.',
        'target:',
        '  type: command',
        `  set: ${argv(target.set)}`,
        ...(target.get ? [`  get: ${argv(target.get)}    # prints the current percentage`] : ['  # get: [...]   # a command printing the current percentage, for the drift check']),
      ];
  }
}
