/**
 * Turns a schema-valid raw plan into the typed `Plan`, checking the rules a schema cannot express:
 * ascending stages, known sources, the right query field for each source, limits in the metric's
 * unit that agree with each other. Every problem is collected with the path it belongs to.
 */
import { sourceKinds } from '../sources/kinds/index.js';
import { targetKinds } from '../targets/kinds/index.js';
import { buildComparisonMetric, comparisonQueries, type RawCompare } from './compare.js';
import { durationMs as ms, formatDuration } from './duration.js';
import { checkLimits } from './limit-checks.js';
import type { DataPath, PathProblem } from './locate.js';
import type { RawPlan, RawSource } from './schema.js';
import type { Secrets } from './secrets.js';
import type {
  AnalysisConfig,
  EventAction,
  MetricConfig,
  NoDataPolicy,
  NotifyConfig,
  Plan,
  SourceConfig,
  Stage,
  TargetConfig,
} from './types.js';

export type { PathProblem };

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_NOTIFY_ON: EventAction[] = ['start', 'advance', 'rollback', 'emergency-rollback', 'complete', 'drift', 'force', 'not-recovered'];

/** The sections of a plan that passed the schema, for checking rules when others did not. */
export type PlanSections = Partial<Pick<RawPlan, 'stages' | 'analysis' | 'sources' | 'metrics' | 'rollback'>>;

/**
 * Checks the rules of every section given. Called on the whole plan, and on the valid sections
 * of a plan the schema rejected, so one run of `validate` reports every problem.
 */
export function checkRules(sections: PlanSections): PathProblem[] {
  const problems: PathProblem[] = [];
  const analysis = buildAnalysis(sections);
  const stages = sections.stages ? buildStages(sections.stages, analysis.bakeMs, problems) : undefined;
  // Without a valid `sources` section, a metric's source cannot be checked; skip rather than guess.
  const sources = sections.sources;
  if (sections.metrics) buildMetrics(sections.metrics, sections.analysis?.noData ?? 'hold', sources, problems, analysis.intervalMs);
  if (sections.analysis) checkRequests(sections.analysis, sources, problems);
  if (stages) checkRollbackTo(sections.rollback, stages, problems);
  if (sections.analysis?.interval !== undefined) checkInterval(analysis.intervalMs, problems);
  return problems;
}

/** Builds the plan from a schema-valid raw plan; returns the problems instead when any rule is broken, and the warnings either way. */
export function buildPlan(
  raw: RawPlan,
  context: { file: string; dir: string; secrets: Secrets },
): { plan?: Plan; problems: PathProblem[]; warnings: PathProblem[] } {
  const found = checkRules({ ...raw, sources: raw.sources ?? {} });
  const problems = found.filter((p) => !p.warning);
  const warnings = found.filter((p) => p.warning);
  if (problems.length > 0) return { problems, warnings };
  const analysis = buildAnalysis(raw);
  const sources = buildSources(raw.sources ?? {}, context.dir);
  return {
    problems,
    warnings,
    plan: {
      file: context.file,
      dir: context.dir,
      version: 1,
      name: raw.name,
      description: raw.description,
      stages: buildStages(raw.stages, analysis.bakeMs, []),
      analysis,
      rollback: { to: raw.rollback?.to ?? 0 },
      sources,
      metrics: buildMetrics(raw.metrics ?? [], analysis.noData, sources, [], analysis.intervalMs),
      target: buildTarget(raw.target, context.dir),
      notify: buildNotify(raw),
      state: { backend: raw.state?.backend ?? (raw.state?.url ? 'postgres' : 'file'), url: raw.state?.url },
      secrets: context.secrets,
    },
  };
}

function buildAnalysis(raw: PlanSections): AnalysisConfig {
  const a = raw.analysis ?? {};
  return {
    intervalMs: ms(a.interval, 30_000),
    bakeMs: ms(a.bake, 30 * 60_000),
    failureLimit: a.failureLimit ?? 2,
    noData: a.noData ?? 'hold',
    maxHoldMs: ms(a.maxHold, 24 * 3_600_000),
    onMaxHold: a.onMaxHold ?? 'fail',
    minRequests: a.minRequests,
    requests: a.requests && { source: a.requests.source, query: queryOf(a.requests, raw.sources), windowMs: windowOf(a.requests) },
    warmupMs: ms(a.warmup, 0),
  };
}

function buildStages(raw: RawPlan['stages'], defaultBakeMs: number, problems: PathProblem[]): Stage[] {
  const stages = raw.map((s) =>
    typeof s === 'number'
      ? { percent: s, bakeMs: defaultBakeMs, approval: false }
      : { percent: s.percent, bakeMs: ms(s.bake, defaultBakeMs), approval: s.approval ?? false },
  );
  stages.forEach((stage, i) => {
    const before = stages[i - 1];
    if (before && stage.percent <= before.percent) {
      problems.push({
        path: ['stages', i],
        message: `stage ${i + 1} (${stage.percent}%) does not go above stage ${i} (${before.percent}%)`,
        hint: 'stages must be strictly ascending, e.g. [10, 25, 50, 100]',
      });
    }
  });
  const last = stages[stages.length - 1];
  if (last && last.percent !== 100) {
    problems.push({
      path: ['stages', stages.length - 1],
      message: `the last stage is ${last.percent}%, not 100%`,
      hint: 'end the plan with a 100% stage (use `run --until` to stop earlier)',
    });
  }
  return stages;
}

function buildSources(raw: Record<string, RawSource>, dir: string): Record<string, SourceConfig> {
  const out: Record<string, SourceConfig> = {};
  for (const [name, s] of Object.entries(raw)) {
    out[name] = { type: s.type, name, timeoutMs: ms(s.timeout, DEFAULT_TIMEOUT_MS), ...sourceKinds.get(s.type).build(s, dir) };
  }
  return out;
}

/** A metric or the traffic counter as written: its source, and its query under some source type's field. */
type QueryEntry = { source: string; baseline?: string; window?: string } & Record<string, unknown>;

/** The entry's `window:` in ms, if it has one. */
function windowOf(entry: QueryEntry): number | undefined {
  return entry.window === undefined ? undefined : ms(entry.window, 0);
}

/** The plan's sources by name, as written or built: their types are what the metrics' checks need. */
type SourceTypes = Record<string, { type: string }>;

/**
 * The text under the field the entry's source reads by. Empty when the source is unknown: that
 * is a problem `checkQueryFields` reports, and a plan with problems is never built.
 */
function queryOf(entry: QueryEntry, sources: SourceTypes | undefined): string {
  const type = sources?.[entry.source]?.type;
  const text = type === undefined ? undefined : entry[sourceKinds.get(type).query.field];
  return typeof text === 'string' ? text : '';
}

/** Checks that a metric (or the requests counter) names a source, uses that source's query field, and that its text reads. */
function checkQueryFields(entry: QueryEntry, at: DataPath, sources: SourceTypes | undefined, problems: PathProblem[]): void {
  if (!sources) return;
  const source = sources[entry.source];
  if (!source) {
    const known = Object.keys(sources);
    problems.push({
      path: [...at, 'source'],
      message: `unknown source "${entry.source}"`,
      hint: known.length ? `use one of: ${known.join(', ')}` : 'define it under `sources:`',
    });
    return;
  }
  const { query } = sourceKinds.get(source.type);
  const wanted = query.field;
  for (const field of new Set(sourceKinds.all().map((kind) => kind.query.field))) {
    if (field !== wanted && entry[field] !== undefined) {
      problems.push({
        path: [...at, field],
        message: `\`${field}\` does not apply to ${source.type} source "${entry.source}"`,
        hint: `a ${source.type} source reads \`${wanted}\``,
        atKey: true,
      });
    }
  }
  if (entry[wanted] === undefined) {
    problems.push({ path: at, message: `missing \`${wanted}\` for ${source.type} source "${entry.source}"`, hint: `add \`${wanted}:\`` });
  }
  checkWindow(entry, at, source.type, query.takesWindow, problems);
  for (const field of [wanted, 'baseline']) {
    const text = entry[field];
    const problem = typeof text === 'string' ? query.check?.(text) : undefined;
    if (problem) problems.push({ path: [...at, field], ...problem });
  }
}

function checkWindow(entry: QueryEntry, at: DataPath, type: string, takesWindow: boolean | undefined, problems: PathProblem[]): void {
  if (entry.window === undefined) return;
  if (!takesWindow) {
    const takers = sourceKinds.all().filter((kind) => kind.query.takesWindow).map((kind) => kind.type);
    problems.push({ path: [...at, 'window'], message: `\`window\` does not apply to ${type} source "${entry.source}"`, hint: `its query sets its own range; only ${takers.join(', ')} sources take a window`, atKey: true });
  } else if (windowOf(entry) === 0) {
    problems.push({ path: [...at, 'window'], message: 'a window of 0 covers no time', hint: 'give the time the query covers, e.g. window: 24h' });
  }
}

/**
 * Checks a comparison's four counts as queries of the metric's source: each through its type's
 * check, and as a count since the previous poll. An unknown source is named once, not per count.
 */
function checkCountQueries(m: QueryEntry & { compare: RawCompare }, at: DataPath, sources: SourceTypes | undefined, intervalMs: number, problems: PathProblem[]): void {
  const source = sources?.[m.source];
  if (!source) return checkQueryFields(m, at, sources, problems);
  const { query } = sourceKinds.get(source.type);
  for (const [path, text] of comparisonQueries(m.compare, at)) {
    for (const problem of [query.check?.(text), query.checkCount?.(text, intervalMs)]) if (problem) problems.push({ path, ...problem });
  }
}

function buildMetrics(
  raw: NonNullable<RawPlan['metrics']>,
  defaultNoData: NoDataPolicy,
  sources: SourceTypes | undefined,
  problems: PathProblem[],
  intervalMs: number,
): MetricConfig[] {
  const seen = new Set<string>();
  return raw.map((m, i) => {
    const at = ['metrics', i];
    if (seen.has(m.name)) problems.push({ path: [...at, 'name'], message: `metric "${m.name}" is defined twice`, hint: 'give each metric its own name' });
    seen.add(m.name);
    if (m.compare) {
      checkCountQueries({ ...m, compare: m.compare }, at, sources, intervalMs, problems);
      return buildComparisonMetric({ ...m, compare: m.compare }, at, defaultNoData, problems);
    }
    checkQueryFields(m, at, sources, problems);
    const hasBaseline = m.baseline !== undefined;
    // Relative limits are unit-free; without a unit, plain numbers are counts.
    const unit = m.unit ?? (hasBaseline ? 'ratio' : 'count');
    const { warning, critical, findings } = checkLimits(m, unit, hasBaseline);
    for (const { field, severity, message, hint } of findings) problems.push({ path: [...at, field], message, hint, warning: severity === 'warning' });
    if (m.warning === undefined && m.critical === undefined) {
      problems.push({ path: at, message: `metric "${m.name}" has neither warning nor critical`, hint: 'add a limit such as critical: "> 5%"' });
    }
    return {
      name: m.name,
      source: m.source,
      query: queryOf(m, sources),
      baseline: m.baseline,
      windowMs: windowOf(m),
      unit,
      warning,
      critical,
      noData: m.noData ?? defaultNoData,
      dryRun: m.dryRun ?? false,
    };
  });
}

function checkRequests(
  a: NonNullable<RawPlan['analysis']>,
  sources: SourceTypes | undefined,
  problems: PathProblem[],
): void {
  if (a.requests) checkQueryFields(a.requests, ['analysis', 'requests'], sources, problems);
  if (a.minRequests !== undefined && !a.requests) {
    problems.push({
      path: ['analysis', 'minRequests'],
      message: '`minRequests` needs `requests` to count the traffic',
      hint: 'add analysis.requests: { source: …, query: … }',
      atKey: true,
    });
  }
}

/** Polls run once a second at most (faster would hammer the sources) and once an hour at least. */
const MIN_INTERVAL_MS = 1000;
const MAX_INTERVAL_MS = 3_600_000;

function checkInterval(intervalMs: number, problems: PathProblem[]): void {
  if (intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) {
    problems.push({ path: ['analysis', 'interval'], message: `analysis.interval must be between 1s and 1h, not ${formatDuration(intervalMs)}`, hint: 'poll every 10s–1m, e.g. interval: 30s' });
  }
}

function checkRollbackTo(rollback: RawPlan['rollback'], stages: Stage[], problems: PathProblem[]): void {
  const to = rollback?.to;
  if (typeof to === 'number' && to !== 0 && !stages.some((s) => s.percent === to)) {
    problems.push({
      path: ['rollback', 'to'],
      message: `rollback.to is ${to}%, which is not a stage`,
      hint: `use 0, previous, or one of ${stages.map((s) => s.percent).join(', ')}`,
    });
  }
}

function buildTarget(raw: RawPlan['target'], dir: string): TargetConfig {
  return { type: raw.type, ...targetKinds.get(raw.type).build(raw, dir) };
}

function buildNotify(raw: RawPlan): NotifyConfig[] {
  return (raw.notify ?? []).map((n) => ({
    type: n.type,
    url: n.url,
    on: n.on ?? DEFAULT_NOTIFY_ON,
    headers: n.headers ?? {},
    secret: n.type === 'webhook' ? n.secret : undefined,
    timeoutMs: ms(n.timeout, 5000),
  }));
}
