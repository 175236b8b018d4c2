/**
 * The HTML report's charts: the percentage over time, and one chart per metric with its limits,
 * the stage boundaries and a marker for every decision. Every chart spans the same time, so they
 * line up one above the other; hovering shows the exact values in the metric's unit.
 */
import { formatReadings, formatValue } from '../analysis/format.js';
import { judgeMetric, type ReadingStatus } from '../analysis/judge.js';
import type { EventAction, Limit, MetricConfig, MetricUnit } from '../plan/types.js';
import { describeMove, type HistoryEvent } from '../state/types.js';
import {
  createPlot,
  drawGrid,
  dotsPath,
  drawHoverColumns,
  escapeMarkup,
  glyphPath,
  linePath,
  px,
  timeTicks,
  valueTicks,
  type Frame,
  type Glyph,
  type HoverSpan,
  type Plot,
  type TimePoint,
} from './svg-chart.js';

/** The time every chart spans (ms since epoch). */
export interface Timeline {
  start: number;
  end: number;
}

/** One reading of a metric: from the poll log, or from a history event when there is none. */
export interface SeriesPoint extends TimePoint {
  baseline?: number;
  percent: number;
  /** Polls this point stands for (a compacted sample stands for several). */
  polls: number;
}

/** A metric to chart: the plan's, or a bare name found in the readings (no unit, no limits). */
export type ChartedMetric = Pick<MetricConfig, 'name' | 'unit'> & Partial<MetricConfig>;

const FRAME: Frame = { width: 1100, height: 220, left: 70, right: 24, top: 22, bottom: 26 };
const PERCENT_FRAME: Frame = { ...FRAME, height: 190 };
/** Hover columns are at least this wide (px), so a week of polls makes a few hundred, not thousands. */
const HOVER_PX = 10;
/** A limit far above the readings is named, not drawn, or the readings would be a flat line at 0. */
const LIMIT_SQUASH = 3;

/** How each decision is drawn; the class names are what the CSS colours and tests look for. */
export const DECISION_GLYPHS: Record<EventAction, Glyph> = {
  start: 'up',
  advance: 'up',
  force: 'up',
  complete: 'circle',
  hold: 'square',
  resume: 'circle',
  rollback: 'down',
  'emergency-rollback': 'down',
  drift: 'diamond',
  recovered: 'diamond',
  'not-recovered': 'diamond',
};

/** Decisions from the least to the most grave, for the one marker that stands for several. */
const GRAVITY: EventAction[] = ['drift', 'resume', 'hold', 'recovered', 'start', 'advance', 'complete', 'force', 'not-recovered', 'rollback', 'emergency-rollback'];

/** A time in hover text, UTC: "12:00:03", with the date when the rollout spans days. */
function stamp(time: number, span: Timeline): string {
  const iso = new Date(time).toISOString();
  return span.end - span.start >= 86_400_000 ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso.slice(11, 19);
}

/** "12:00:03 UTC" or "12:00:03–12:00:09 UTC". */
function timeRange(start: number, end: number, time: Timeline): string {
  return end - start < 1000 ? `${stamp(start, time)} UTC` : `${stamp(start, time)}–${stamp(end, time)} UTC`;
}

/** An event in one line: what, where, when, who, why, and the readings it was decided on. */
export function describeEvent(event: HistoryEvent, units: ReadonlyMap<string, MetricUnit>, time: Timeline): string {
  const readings = formatReadings(event.metrics, units);
  const verdict = event.verdict ? ` (${event.verdict})` : '';
  return `${event.action} ${describeMove(event)}${verdict} at ${stamp(Date.parse(event.time), time)} UTC by ${event.actor}: ${event.reason}${readings ? ` [${readings}]` : ''}`;
}

/** Where the percentage stood over time, one marker per event with its full text. */
export function percentChart(events: HistoryEvent[], time: Timeline, units: ReadonlyMap<string, MetricUnit>): string {
  const plot = createPlot(PERCENT_FRAME, time, 100);
  const span = time.end - time.start;
  const parts = [drawGrid(plot, [0, 25, 50, 75, 100], (v) => `${v}%`, timeTicks(time.start, time.end), span)];
  if (events.length > 0) {
    let d = `M${px(plot.leftEdge)} ${px(plot.y(events[0]?.from ?? 0))}`;
    for (const e of events) d += `H${px(plot.x(Date.parse(e.time)))}V${px(plot.y(e.to))}`;
    d += `H${px(plot.rightEdge)}`;
    parts.push(`<path class="percent-area" d="${d}V${plot.bottom}H${plot.leftEdge}z"/><path class="percent-line" d="${d}"/>`);
  }
  // Events closer than a hover column would be drawn over each other: one marker tells them all,
  // drawn as the gravest of them (the CSS colours later classes over earlier ones).
  const groups = new Map<number, HistoryEvent[]>();
  for (const e of events) {
    const key = Math.floor((plot.x(Date.parse(e.time)) - plot.leftEdge) / HOVER_PX);
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  for (const group of groups.values()) {
    const shown = group.reduce((a, b) => (GRAVITY.indexOf(b.action) >= GRAVITY.indexOf(a.action) ? b : a));
    const glyph = glyphPath(DECISION_GLYPHS[shown.action] ?? 'diamond', plot.x(Date.parse(shown.time)), plot.y(shown.to));
    const classes = [...new Set(group.map((g) => `marker-${escapeMarkup(g.action)}`))].join(' ');
    const title = group.map((g) => describeEvent(g, units, time)).join('\n');
    parts.push(`<g class="marker ${classes}" data-count="${group.length}"><title>${escapeMarkup(title)}</title><path d="${glyph}"/></g>`);
  }
  return svg(PERCENT_FRAME, 'percent applied over time', parts);
}

/** Where a limit lands on the chart: a line for an absolute limit, a path along the baseline for a relative one. */
function limitShape(plot: Plot, limit: Limit, points: SeriesPoint[]): string {
  if (!limit.relative) return `M${plot.leftEdge} ${px(plot.y(limit.value))}H${plot.rightEdge}`;
  return linePath(plot, points.map((p) => ({ time: p.time, value: p.baseline === undefined ? null : p.baseline * (1 + limit.value) })));
}

/** The highest value the chart must show: the readings, their baselines, and limits not far above them. */
function chartMax(metric: ChartedMetric, points: SeriesPoint[]): { max: number; offChart: string[] } {
  const values = points.flatMap((p) => [p.value, p.baseline ?? null]).filter((v): v is number => v !== null && Number.isFinite(v));
  const data = values.length ? Math.max(...values) : 0;
  let max = data;
  const offChart: string[] = [];
  for (const [kind, limit] of [['warning', metric.warning], ['critical', metric.critical]] as const) {
    if (!limit || limit.relative) continue;
    if (data === 0 || limit.value <= data * LIMIT_SQUASH) max = Math.max(max, limit.value);
    else offChart.push(`${kind} ${limit.text}`);
  }
  // Headroom for the note naming the limits above the chart, so it is not written over the line.
  return { max: max * (offChart.length ? 1.4 : 1.08), offChart };
}

/** The reading's status as the judge saw it (for colouring); readings of a bare name are just "ok". */
function statusOf(metric: ChartedMetric, point: SeriesPoint): ReadingStatus {
  if (point.value === null) return 'nodata';
  if (!metric.source) return 'ok';
  return judgeMetric(metric as MetricConfig, { name: metric.name, value: point.value, baseline: point.baseline }).status;
}

/**
 * The hover text of the readings and events in one column. Events are named with this metric's
 * reading only: their full text is on the percent chart, right above.
 */
function columnText(metric: ChartedMetric, points: SeriesPoint[], events: HistoryEvent[], units: ReadonlyMap<string, MetricUnit>, time: Timeline): string {
  const times = [...points.map((p) => p.time), ...events.map((e) => Date.parse(e.time))];
  const lines = [timeRange(Math.min(...times), Math.max(...times), time)];
  const show = (v: number) => formatValue(v, metric.unit);
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  const percents = [...new Set(points.map((p) => `${p.percent}%`))].join(', ');
  const polls = points.reduce((n, p) => n + p.polls, 0);
  const last = points.at(-1);
  if (last && points.length === 1 && polls === 1) {
    const status = statusOf(metric, last);
    lines.push(`${metric.name} ${last.value === null ? 'no data' : show(last.value)}${status === 'ok' || status === 'nodata' ? '' : ` (${status})`} at ${percents}`);
  } else if (points.length > 0) {
    const range = values.length ? `min ${show(Math.min(...values))}, max ${show(Math.max(...values))}, last ${last?.value === null || last === undefined ? 'no data' : show(last.value)}` : 'no data';
    lines.push(`${metric.name} over ${polls} polls at ${percents}: ${range}`);
  }
  if (last?.baseline !== undefined) lines.push(`baseline ${show(last.baseline)}`);
  if (events.length > 0) lines.push(summarizeEvents(events));
  return lines.join('\n');
}

/** The decisions in a column, briefly ("advance 10% → 25%, hold ×3"): the percent chart above has them in full. */
function summarizeEvents(events: HistoryEvent[]): string {
  const counts = new Map<string, number>();
  for (const e of events) {
    const key = e.from === e.to ? e.action : `${e.action} ${describeMove(e)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => (n > 1 ? `${key} ×${n}` : key)).join(', ');
}

/** Groups readings and events into columns HOVER_PX wide. */
function hoverSpans(plot: Plot, metric: ChartedMetric, points: SeriesPoint[], events: HistoryEvent[], units: ReadonlyMap<string, MetricUnit>, time: Timeline): HoverSpan[] {
  const columns = new Map<number, { points: SeriesPoint[]; events: HistoryEvent[]; start: number; end: number }>();
  const at = (time: number) => {
    const key = Math.floor((plot.x(time) - plot.leftEdge) / HOVER_PX);
    let column = columns.get(key);
    if (!column) columns.set(key, (column = { points: [], events: [], start: time, end: time }));
    column.start = Math.min(column.start, time);
    column.end = Math.max(column.end, time);
    return column;
  };
  for (const p of points) at(p.time).points.push(p);
  for (const e of events) at(Date.parse(e.time)).events.push(e);
  return [...columns.values()].map((c) => ({ start: c.start, end: c.end, text: columnText(metric, c.points, c.events, units, time) }));
}

/** One metric over time: readings, limits, stage boundaries, decisions, and hover text with exact values. */
export function metricChart(metric: ChartedMetric, points: SeriesPoint[], events: HistoryEvent[], time: Timeline, units: ReadonlyMap<string, MetricUnit>): string {
  const { max, offChart } = chartMax(metric, points);
  const ticks = valueTicks(max);
  const plot = createPlot(FRAME, time, ticks.at(-1) ?? 1);
  const parts = [drawGrid(plot, ticks, (v) => formatValue(v, metric.unit), timeTicks(time.start, time.end), time.end - time.start)];
  parts.push(stageBoundaries(plot, events));
  if (points.some((p) => p.baseline !== undefined)) {
    parts.push(`<path class="baseline" d="${linePath(plot, points.map((p) => ({ time: p.time, value: p.baseline ?? null })))}"/>`);
  }
  for (const [kind, limit] of [['warning', metric.warning], ['critical', metric.critical]] as const) {
    if (!limit || offChart.includes(`${kind} ${limit.text}`)) continue;
    const y = limit.relative ? plot.top + 26 : plot.y(limit.value) - 4;
    parts.push(`<path class="limit limit-${kind}" d="${limitShape(plot, limit, points)}"/>`);
    parts.push(`<text class="limit-label limit-${kind}" x="${plot.rightEdge - 4}" y="${px(y)}" text-anchor="end">${escapeMarkup(`${kind} ${limit.text}`)}</text>`);
  }
  if (offChart.length) {
    parts.push(`<text class="limit-label" x="${plot.rightEdge - 4}" y="${plot.top + 26}" text-anchor="end">${escapeMarkup(`${offChart.join(', ')}: above the chart`)}</text>`);
  }
  parts.push(noDataBands(plot, points));
  parts.push(`<path class="series" d="${linePath(plot, points)}"/>`);
  parts.push(readingDots(plot, metric, points));
  parts.push(decisionMarks(plot, events));
  parts.push(drawHoverColumns(plot, hoverSpans(plot, metric, points, events, units, time)));
  return svg(FRAME, `${metric.name} over time`, parts);
}

/** Dashed lines where the percentage changed, labelled with the new one. */
function stageBoundaries(plot: Plot, events: HistoryEvent[]): string {
  let d = '';
  let labels = '';
  let lastLabelX = -Infinity;
  for (const e of events) {
    if (e.from === e.to) continue;
    const x = plot.x(Date.parse(e.time));
    d += `M${px(x)} ${plot.top}V${plot.bottom}`;
    // Labels closer than this would overlap; the line and the hover text still say it.
    if (x - lastLabelX < 30) continue;
    labels += `<text class="stage-label" x="${px(x + 3)}" y="${plot.top - 6}">${e.to}%</text>`;
    lastLabelX = x;
  }
  return d ? `<path class="stage-boundary" d="${d}"/>${labels}` : '';
}

/** Grey bands along the bottom where the metric read as no data. */
function noDataBands(plot: Plot, points: SeriesPoint[]): string {
  let d = '';
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as SeriesPoint;
    if (p.value !== null) continue;
    const next = points[i + 1];
    const x0 = plot.x(p.time) - 1;
    const x1 = next ? plot.x(next.time) : x0 + 3;
    d += `M${px(x0)} ${plot.bottom - 5}h${px(Math.max(2, x1 - x0))}v5h-${px(Math.max(2, x1 - x0))}z`;
  }
  return d ? `<path class="nodata" d="${d}"/>` : '';
}

/** Below this many readings each one gets a dot, so the polls can be told apart. */
const DOTTED_POINTS = 400;

/** A dot on each reading (when they are few), coloured where it breached a limit. */
function readingDots(plot: Plot, metric: ChartedMetric, points: SeriesPoint[]): string {
  const dots: Record<'ok' | 'warning' | 'critical', { x: number; y: number }[]> = { ok: [], warning: [], critical: [] };
  for (const p of points) {
    const status = statusOf(metric, p);
    const kind = status === 'warning' || status === 'critical' ? status : 'ok';
    if (status === 'nodata' || p.value === null || (kind === 'ok' && points.length > DOTTED_POINTS)) continue;
    dots[kind].push({ x: plot.x(p.time), y: plot.y(p.value) });
  }
  return (['ok', 'warning', 'critical'] as const).map((s) => (dots[s].length ? `<path class="dot dot-${s}" d="${dotsPath(dots[s])}"/>` : '')).join('');
}

/** Each decision as a thin line across the plot and a glyph along its top; one path per kind keeps the page small. */
function decisionMarks(plot: Plot, events: HistoryEvent[]): string {
  const byAction = new Map<string, { lines: string; glyphs: string; count: number; columns: Set<number> }>();
  for (const e of events) {
    const x = plot.x(Date.parse(e.time));
    const mark = byAction.get(e.action) ?? { lines: '', glyphs: '', count: 0, columns: new Set<number>() };
    mark.count++;
    byAction.set(e.action, mark);
    // One mark per kind and half a hover column: more would only be drawn over each other.
    const column = Math.round(x / (HOVER_PX / 2));
    if (mark.columns.has(column)) continue;
    mark.columns.add(column);
    mark.lines += `M${px(x)} ${plot.top}V${plot.bottom}`;
    mark.glyphs += glyphPath(DECISION_GLYPHS[e.action] ?? 'diamond', x, plot.top + 7, 5);
  }
  return [...byAction]
    .map(([action, m]) => {
      const kind = escapeMarkup(action);
      return `<g class="marker marker-${kind}" data-count="${m.count}"><path class="decision-line" d="${m.lines}"/><path d="${m.glyphs}"/></g>`;
    })
    .join('');
}

function svg(frame: Frame, label: string, parts: string[]): string {
  return `<svg class="chart" viewBox="0 0 ${frame.width} ${frame.height}" width="${frame.width}" height="${frame.height}" role="img" aria-label="${escapeMarkup(label)}">${parts.join('')}</svg>`;
}
