/** The metric table shared by `check`, `status` and `run`'s live view. */
import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { Judgement, ReadingStatus, Verdict } from '../analysis/judge.js';
import { describeComparisonLimit } from '../analysis/compare/judge-comparison.js';
import type { Plan } from '../plan/types.js';

const STATUS_COLOR: Record<ReadingStatus, keyof Pick<ChalkInstance, 'green' | 'yellow' | 'red' | 'magenta'>> = {
  ok: 'green',
  warning: 'yellow',
  critical: 'red',
  nodata: 'magenta',
  undecided: 'yellow',
};

/** Colours a reading's status. */
export function paintStatus(status: ReadingStatus, color: ChalkInstance): string {
  return color[STATUS_COLOR[status]](status);
}

/** Colours a verdict. */
export function paintVerdict(verdict: Verdict, color: ChalkInstance): string {
  const paint = verdict === 'healthy' ? color.green : verdict === 'hold' ? color.yellow : color.red;
  return paint.bold(verdict.toUpperCase());
}

/** Renders the readings as a table; `trends` adds a sparkline column (status). */
export function renderReadings(plan: Plan, judgement: Pick<Judgement, 'readings'>, color: ChalkInstance, trends?: Map<string, string>): string {
  const head = ['metric', 'value', 'warning', 'critical', 'reading', ...(trends ? ['trend'] : []), 'reason'];
  const table = new Table({ head, style: { head: color.level > 0 ? ['bold'] : [], border: color.level > 0 ? ['grey'] : [] }, wordWrap: true });
  for (const { reading: r, name, warning, critical } of readingRows(plan, judgement, color)) {
    table.push([name, r.display, warning, critical, paintStatus(r.status, color), ...(trends ? [trends.get(r.name) ?? ''] : []), r.status === 'ok' ? color.dim(r.reason) : r.reason]);
  }
  return table.toString();
}

/** Each reading with its shown name and its metric's limits in words. */
function readingRows(plan: Plan, judgement: Pick<Judgement, 'readings'>, color: ChalkInstance) {
  const byName = new Map(plan.metrics.map((m) => [m.name, m]));
  return judgement.readings.map((reading) => {
    const metric = byName.get(reading.name);
    return {
      reading,
      name: reading.dryRun ? `${reading.name} ${color.dim('(dry run)')}` : reading.name,
      warning: metric?.warning?.text ?? '—',
      critical: metric?.critical?.text ?? (metric?.compare ? describeComparisonLimit(metric.compare) : '—'),
    };
  });
}

/**
 * The readings one metric a line, for a narrow terminal where the table would wrap:
 * `error_rate 2% warning (warn > 1%, crit > 5%)`, the trend after the value when given.
 */
export function renderCompactReadings(plan: Plan, judgement: Pick<Judgement, 'readings'>, color: ChalkInstance, trends?: Map<string, string>): string {
  return readingRows(plan, judgement, color)
    .map(({ reading: r, name, warning, critical }) => {
      const trend = trends?.get(r.name);
      return `${name} ${r.display}${trend ? ` ${trend}` : ''} ${paintStatus(r.status, color)} ${color.dim(`(warn ${warning}, crit ${critical})`)}`;
    })
    .join('\n');
}

/** The readings table and the verdict line under it; `reasons` adds why the verdict is what it is. */
export function renderJudgement(plan: Plan, judgement: Judgement, color: ChalkInstance, options: { trends?: Map<string, string>; reasons: boolean }): string {
  return `${renderReadings(plan, judgement, color, options.trends)}\n${renderVerdict(judgement, color, options)}`;
}

/** `verdict: HOLD — why`; `reasons: false` leaves out the why. */
export function renderVerdict(judgement: Judgement, color: ChalkInstance, options: { reasons: boolean }): string {
  const why = options.reasons && judgement.reasons.length ? ` — ${judgement.reasons.join('; ')}` : '';
  return `verdict: ${paintVerdict(judgement.verdict, color)}${why}`;
}

/** What `check` prints: the table and the verdict with its reasons, or that there is nothing to judge. */
export function renderCheck(plan: Plan, judgement: Judgement, color: ChalkInstance): string {
  if (plan.metrics.length > 0) return renderJudgement(plan, judgement, color, { reasons: true });
  return `this plan has no metrics to judge\n${renderVerdict(judgement, color, { reasons: true })}`;
}
