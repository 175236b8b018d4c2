/**
 * SVG drawing for the HTML report: a plot area over a time axis, its grid and labels, lines that
 * break where there is no data, and hover columns whose title is the exact text. Strings in,
 * strings out; no browser and no library, so the page stays small and works offline.
 */
import { processSecrets } from '../plan/secrets.js';

const ENTITIES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' };

/**
 * Text for an HTML or SVG document (element content and quoted attributes): secrets redacted
 * first, since once escaped (`&` → `&amp;`) a secret no longer reads as itself to a later redaction.
 */
export const escapeMarkup = (text: string): string => processSecrets.redact(text).replace(/[<>&"']/g, (c) => ENTITIES[c] ?? c);

/** Coordinates rounded to a tenth of a pixel: finer is invisible and only makes the page larger. */
export const px = (n: number): string => String(Math.round(n * 10) / 10);

/** A chart's size and the margins around its plot area, in pixels. */
export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** A plot: its frame, and where a time (ms) and a value land in it. */
export interface Plot {
  frame: Frame;
  x(time: number): number;
  y(value: number): number;
  /** The plot area's edges. */
  top: number;
  bottom: number;
  leftEdge: number;
  rightEdge: number;
}

/** A plot mapping [start, end] (ms) across and [0, max] up. */
export function createPlot(frame: Frame, time: { start: number; end: number }, max: number): Plot {
  const leftEdge = frame.left;
  const rightEdge = frame.width - frame.right;
  const top = frame.top;
  const bottom = frame.height - frame.bottom;
  const span = Math.max(1, time.end - time.start);
  return {
    frame,
    top,
    bottom,
    leftEdge,
    rightEdge,
    x: (t) => leftEdge + ((t - time.start) / span) * (rightEdge - leftEdge),
    y: (v) => bottom - (Math.min(Math.max(v, 0), max) / (max || 1)) * (bottom - top),
  };
}

/** Up to about `count` round values from 0 to at least `max` (1, 2, 2.5 or 5 times a power of ten). */
export function valueTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let i = 0; i * step < max + step * 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
  if ((ticks.at(-1) ?? 0) < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [1, 2, 5, 10, 15, 30].map((s) => s * SECOND).concat([1, 2, 5, 10, 15, 30].map((m) => m * MINUTE), [1, 2, 3, 6, 12].map((h) => h * HOUR), [1, 2, 7].map((d) => d * DAY));

/** A time of day in UTC for axis labels: to the second for short spans, with the date for long ones. */
export function clockLabel(time: number, spanMs: number): string {
  const iso = new Date(time).toISOString();
  if (spanMs >= DAY) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  return spanMs >= 10 * MINUTE ? iso.slice(11, 16) : iso.slice(11, 19);
}

/** Round times across [start, end] for the axis, at most about `count` of them. */
export function timeTicks(start: number, end: number, count = 8): number[] {
  const span = Math.max(1, end - start);
  const step = TIME_STEPS.find((s) => span / s <= count) ?? Math.ceil(span / count / DAY) * DAY;
  const ticks: number[] = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) ticks.push(t);
  return ticks;
}

/** The plot's background, horizontal grid with value labels, and time grid with clock labels. */
export function drawGrid(plot: Plot, values: number[], formatValue: (v: number) => string, times: number[], span: number): string {
  const parts = [`<rect class="plot-bg" x="${plot.leftEdge}" y="${plot.top}" width="${plot.rightEdge - plot.leftEdge}" height="${plot.bottom - plot.top}"/>`];
  for (const v of values) {
    const y = px(plot.y(v));
    parts.push(`<line class="grid" x1="${plot.leftEdge}" x2="${plot.rightEdge}" y1="${y}" y2="${y}"/>`);
    parts.push(`<text class="axis" x="${plot.leftEdge - 6}" y="${y}" dy="4" text-anchor="end">${escapeMarkup(formatValue(v))}</text>`);
  }
  for (const t of times) {
    const x = px(plot.x(t));
    parts.push(`<line class="grid" x1="${x}" x2="${x}" y1="${plot.top}" y2="${plot.bottom}"/>`);
    parts.push(`<text class="axis" x="${x}" y="${plot.bottom + 16}" text-anchor="middle">${clockLabel(t, span)}</text>`);
  }
  return parts.join('');
}

/** A point in time with a value, or null where there was no data. */
export interface TimePoint {
  time: number;
  value: number | null;
}

/** Readings closer than this (px) share a column of the line: its first, lowest, highest and last value. */
const COLUMN_PX = 2;

/**
 * The `points` as one path with a gap wherever there is no data. Points within a COLUMN_PX column
 * keep only their first, lowest, highest and last value, so a spike is never lost and a week of
 * polls costs no more than the chart's width; a flat run is one segment.
 */
export function linePath(plot: Plot, points: TimePoint[]): string {
  const out: { x: number; y: number; move: boolean }[] = [];
  let pen: 'up' | 'down' = 'up';
  let column: { x: number; ys: number[] } | undefined;
  const emit = (x: number, y: number) => {
    const [a, b] = [out.at(-2), out.at(-1)];
    // Three in a row at one height: the middle one adds nothing.
    if (pen === 'down' && a && b && !b.move && px(a.y) === px(y) && px(b.y) === px(y)) b.x = x;
    else out.push({ x, y, move: pen === 'up' });
    pen = 'down';
  };
  const flush = () => {
    if (!column) return;
    const { x, ys } = column;
    const kept = ys.length <= 2 ? ys : [ys[0] as number, Math.min(...ys), Math.max(...ys), ys.at(-1) as number];
    let previous: string | undefined;
    for (const y of kept) {
      if (px(y) === previous) continue;
      previous = px(y);
      emit(x, y);
    }
    column = undefined;
  };
  for (const point of points) {
    if (point.value === null || !Number.isFinite(point.value)) {
      flush();
      pen = 'up';
      continue;
    }
    const x = plot.x(point.time);
    const y = plot.y(point.value);
    if (column && x - column.x < COLUMN_PX) column.ys.push(y);
    else {
      flush();
      column = { x, ys: [y] };
    }
  }
  flush();
  return out.map((p) => `${p.move ? 'M' : 'L'}${px(p.x)} ${px(p.y)}`).join('');
}

/** Dots (round caps of zero-length strokes: a few bytes each), one per COLUMN_PX column: the first of each. */
export function dotsPath(points: { x: number; y: number }[]): string {
  const seen = new Set<number>();
  let d = '';
  for (const { x, y } of points) {
    const key = Math.round(x / COLUMN_PX);
    if (seen.has(key)) continue;
    seen.add(key);
    d += `M${px(x)} ${px(y)}h0`;
  }
  return d;
}

/** A span of time and what happened in it, for a hover column. */
export interface HoverSpan {
  start: number;
  end: number;
  text: string;
}

/** Transparent full-height columns whose title tells what happened under the pointer. */
export function drawHoverColumns(plot: Plot, spans: HoverSpan[]): string {
  return spans
    .map((s) => {
      const x0 = plot.x(s.start) - 2;
      const width = Math.max(4, plot.x(s.end) - plot.x(s.start) + 4);
      return `<rect class="hover" x="${px(x0)}" y="${plot.top}" width="${px(width)}" height="${plot.bottom - plot.top}"><title>${escapeMarkup(s.text)}</title></rect>`;
    })
    .join('');
}

/** A marker's shape: up and down triangles, a square, a diamond or a circle. */
export type Glyph = 'up' | 'down' | 'square' | 'diamond' | 'circle';

/** Path data of a glyph of radius `r` centred on (x, y). */
export function glyphPath(glyph: Glyph, x: number, y: number, r = 6): string {
  const [X, Y, R, h] = [px(x), px(y), px(r), px(r * 0.8)];
  switch (glyph) {
    case 'up':
      return `M${X} ${px(y - r)}l${R} ${px(r * 1.8)}h-${px(2 * r)}z`;
    case 'down':
      return `M${X} ${px(y + r)}l${R} -${px(r * 1.8)}h-${px(2 * r)}z`;
    case 'square':
      return `M${px(x - r * 0.8)} ${px(y - r * 0.8)}h${px(1.6 * r)}v${px(1.6 * r)}h-${px(1.6 * r)}z`;
    case 'diamond':
      return `M${X} ${px(y - r)}l${R} ${R}l-${R} ${R}l-${R} -${R}z`;
    case 'circle':
      return `M${px(x - r * 0.8)} ${Y}a${h} ${h} 0 1 0 ${px(1.6 * r)} 0a${h} ${h} 0 1 0 -${px(1.6 * r)} 0`;
  }
}
