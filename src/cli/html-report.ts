/**
 * `rollout report --format html` (and `run --report-html`): the rollout as one self-contained page
 * for a CI artifact or a postmortem. A header (plan, outcome, who, when, how long), the percentage
 * over time, one chart per metric from the poll log (or, without one, the readings in history),
 * and the stages as a table. Inline CSS and SVG only: no script, no font, nothing fetched.
 */
import type { MetricUnit, Plan } from '../plan/types.js';
import { formatDuration } from '../plan/duration.js';
import type { MetricSample } from '../state/samples.js';
import type { HistoryEvent } from '../state/types.js';
import { decisionOf, reasonOf, stageRecords } from './deployment-report.js';
import { DECISION_GLYPHS, metricChart, percentChart, type ChartedMetric, type SeriesPoint, type Timeline } from './report-charts.js';
import { escapeMarkup, glyphPath } from './svg-chart.js';

/** Where a rollout ended up, from its history. */
export function outcomeOf(events: HistoryEvent[]): { kind: 'not-started' | 'in-progress' | 'complete' | 'rolled-back'; text: string } {
  let outcome: ReturnType<typeof outcomeOf> = { kind: 'not-started', text: 'not started' };
  for (const e of events) {
    if (e.action === 'complete') outcome = { kind: 'complete', text: `completed at ${e.to}%` };
    else if (e.action === 'rollback' || e.action === 'emergency-rollback') outcome = { kind: 'rolled-back', text: `${e.action === 'rollback' ? 'rolled back' : 'emergency rollback'} to ${e.to}%` };
    else if (e.from !== e.to) outcome = { kind: 'in-progress', text: `at ${e.to}%, not finished` };
  }
  return outcome;
}

/** A metric's readings over time: the poll log where it has them, else the readings recorded with events. */
function seriesOf(name: string, samples: MetricSample[], events: HistoryEvent[]): SeriesPoint[] {
  const polled = samples.filter((s) => Object.hasOwn(s.metrics, name));
  if (polled.length > 0) {
    return polled.map((s) => ({ time: Date.parse(s.time), value: s.metrics[name] ?? null, baseline: s.baselines?.[name], percent: s.percent, polls: s.polls ?? 1 }));
  }
  // An event's readings were taken before its move, at its `from`.
  return events.filter((e) => Object.hasOwn(e.metrics, name)).map((e) => ({ time: Date.parse(e.time), value: e.metrics[name] ?? null, percent: e.from, polls: 1 }));
}

/** The plan's metrics, then any other name found in the readings (a metric since removed from the plan). */
function chartedMetrics(plan: Plan, samples: MetricSample[], events: HistoryEvent[]): ChartedMetric[] {
  const names = new Set(plan.metrics.map((m) => m.name));
  const others = new Set<string>();
  for (const record of [...samples, ...events]) for (const name of Object.keys(record.metrics)) if (!names.has(name)) others.add(name);
  return [...plan.metrics, ...[...others].map((name): ChartedMetric => ({ name, unit: 'count' }))];
}

function timelineOf(samples: MetricSample[], events: HistoryEvent[]): Timeline {
  const times = [...samples, ...events].map((r) => Date.parse(r.time)).filter(Number.isFinite);
  if (times.length === 0) return { start: 0, end: 60_000 };
  const start = Math.min(...times);
  return { start, end: Math.max(start + 1000, ...times) };
}

function metricHeading(metric: ChartedMetric): string {
  const limits = [metric.warning && `warning ${metric.warning.text}`, metric.critical && `critical ${metric.critical.text}`].filter(Boolean);
  const facts = [metric.source ? `${metric.unit} from ${metric.source}` : 'not in the plan any more', ...limits, metric.baseline !== undefined ? 'relative to its baseline' : '', metric.dryRun ? 'dry run' : ''];
  return `<h2>${escapeMarkup(metric.name)} <span class="meta">${escapeMarkup(facts.filter(Boolean).join(' · '))}</span></h2>`;
}

/** A key to the decision markers that appear on this page. */
function legend(events: HistoryEvent[]): string {
  const actions = [...new Set(events.map((e) => e.action))];
  const items = actions.map((a) => `<span><svg class="marker marker-${escapeMarkup(a)}" width="14" height="14" viewBox="0 0 14 14"><path d="${glyphPath(DECISION_GLYPHS[a] ?? 'diamond', 7, 7, 6)}"/></svg>${escapeMarkup(a)}</span>`);
  return `<p class="legend">${[...items, '<span><i class="swatch series"></i>reading</span>', '<span><i class="swatch limit-warning"></i>warning</span>', '<span><i class="swatch limit-critical"></i>critical</span>', '<span><i class="swatch stage-boundary"></i>stage change</span>'].join('')}</p>`;
}

function header(plan: Plan, events: HistoryEvent[], samples: MetricSample[]): string {
  const outcome = outcomeOf(events);
  const first = events[0];
  const last = events.at(-1);
  const actors = [...new Set(events.map((e) => e.actor))];
  const polls = samples.reduce((n, s) => n + (s.polls ?? 1), 0);
  const facts: [string, string][] = [
    ['Outcome', `${outcome.text}${last && outcome.kind !== 'not-started' ? ` — ${last.reason}` : ''}`],
    ['Who', actors.join(', ') || '—'],
    ['Started', first?.time ?? '—'],
    ['Last event', last?.time ?? '—'],
    ['Duration', first && last ? formatDuration(Date.parse(last.time) - Date.parse(first.time)) : '—'],
    ['Stages', plan.stages.map((s) => `${s.percent}%`).join(' → ')],
    ['Readings', polls > 0 ? `${polls} polls kept by \`rollout run\`` : 'from history events only (no poll log)'],
  ];
  return [
    `<header class="outcome-${outcome.kind}">`,
    `<h1>${escapeMarkup(plan.name)} <span class="badge">${escapeMarkup(outcome.text)}</span></h1>`,
    plan.description ? `<p>${escapeMarkup(plan.description)}</p>` : '',
    `<dl>${facts.map(([k, v]) => `<dt>${k}</dt><dd>${escapeMarkup(v)}</dd>`).join('')}</dl>`,
    '</header>',
  ].join('\n');
}

function stageTable(events: HistoryEvent[], plan: Plan): string {
  const stages = stageRecords(events, plan);
  if (stages.length === 0) return '<p>No stage has been applied yet.</p>';
  const rows = stages.map((s) => {
    const cells = [String(s.stage ?? '—'), `${s.percent}%`, String(s.attempt), s.enteredAt, s.enteredBy, s.durationMs === undefined ? '—' : formatDuration(s.durationMs), decisionOf(s), reasonOf(s)];
    return `<tr>${cells.map((c) => `<td>${escapeMarkup(c)}</td>`).join('')}</tr>`;
  });
  return `<table><thead><tr><th>stage</th><th>percent</th><th>attempt</th><th>entered</th><th>by</th><th>lasted</th><th>decision</th><th>reason</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#111827;margin:24px auto;max-width:1140px;padding:0 12px}
h1{font-size:22px;margin:0 0 6px}h2{font-size:16px;margin:22px 0 4px}.meta{font-weight:normal;color:#6b7280;font-size:13px}
header{border-left:6px solid #9ca3af;padding:4px 14px}.outcome-complete{border-color:#16a34a}.outcome-rolled-back{border-color:#dc2626}.outcome-in-progress{border-color:#2563eb}
.badge{font-size:13px;padding:2px 8px;border-radius:10px;background:#e5e7eb;vertical-align:middle}
.outcome-complete .badge{background:#dcfce7;color:#166534}.outcome-rolled-back .badge{background:#fee2e2;color:#991b1b}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}dt{color:#6b7280}dd{margin:0}
.legend{color:#374151}.legend>span{display:inline-flex;align-items:center;gap:4px;margin-right:14px}.legend svg{display:block}
.swatch{display:inline-block;width:18px;height:0;border-top:2px solid}.swatch.series{border-color:#2563eb}.swatch.limit-warning{border-top-style:dashed}.swatch.limit-critical{border-top-style:dashed}.swatch.stage-boundary{border-color:#9ca3af;border-top-style:dotted}
svg.chart{display:block;max-width:100%;height:auto}
.plot-bg{fill:#f9fafb}.grid{stroke:#e5e7eb}.axis{font-size:11px;fill:#4b5563}
.series{fill:none;stroke:#2563eb;stroke-width:1.8;stroke-linejoin:round}.baseline{fill:none;stroke:#6b7280;stroke-dasharray:2 3}
.limit{fill:none;stroke-width:1.5;stroke-dasharray:6 4}.limit-label{font-size:11px;fill:#374151}
.limit-warning{stroke:#d97706;border-color:#d97706}text.limit-warning{fill:#b45309;stroke:none}.limit-critical{stroke:#dc2626;border-color:#dc2626}text.limit-critical{fill:#b91c1c;stroke:none}
.stage-boundary{stroke:#9ca3af;stroke-dasharray:3 3}.stage-label{font-size:11px;fill:#374151}
.dot{stroke-linecap:round;stroke-width:5}.dot-ok{stroke:#2563eb;stroke-width:4}.dot-warning{stroke:#f59e0b}.dot-critical{stroke:#dc2626}.nodata{fill:#9ca3af}
.percent-area{fill:#dbeafe}.percent-line{fill:none;stroke:#1d4ed8;stroke-width:2}
.marker{color:#6b7280}.marker path{fill:currentColor;stroke:#fff;stroke-width:.8}.marker .decision-line{fill:none;stroke:currentColor;stroke-opacity:.35;stroke-width:1}
.marker-resume{color:#0d9488}.marker-hold{color:#d97706}.marker-start,.marker-advance,.marker-complete,.marker-recovered{color:#16a34a}.marker-force{color:#9333ea}
.marker-rollback,.marker-not-recovered{color:#dc2626}.marker-emergency-rollback{color:#7f1d1d}
.hover{fill:#2563eb;fill-opacity:0}.hover:hover{fill-opacity:.08}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e5e7eb;vertical-align:top}
footer{margin-top:24px;color:#6b7280;font-size:12px}`;

/** The report page of `plan` from its history and poll log. Pure: the same input gives the same page. */
export function renderHtmlReport(plan: Plan, events: HistoryEvent[], samples: MetricSample[]): string {
  const time = timelineOf(samples, events);
  const units = new Map<string, MetricUnit>(plan.metrics.map((m) => [m.name, m.unit]));
  const metrics = chartedMetrics(plan, samples, events).map(
    (m) => `<section class="metric" data-metric="${escapeMarkup(m.name)}">${metricHeading(m)}${metricChart(m, seriesOf(m.name, samples, events), events, time, units)}</section>`,
  );
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // Nothing on this page may be fetched: it is opened from CI artifacts and attached to postmortems.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>rollout report: ${escapeMarkup(plan.name)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    header(plan, events, samples),
    legend(events),
    `<section class="percent"><h2>Percent applied <span class="meta">hover a marker for the decision, its reason and readings</span></h2>${percentChart(events, time, units)}</section>`,
    ...metrics,
    `<section class="stages"><h2>Stages</h2>${stageTable(events, plan)}</section>`,
    `<footer>rollout report of ${escapeMarkup(plan.name)}: ${events.length} history events, ${samples.length} samples. Times in UTC.</footer>`,
    '</body></html>',
  ].join('\n');
}
