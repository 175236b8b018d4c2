/**
 * What `rollout run` prints as it goes. On a terminal: a live view (stage, bake progress bar with
 * time left, the metric table, the last decision) redrawn in place, with events logged above it.
 * Without a terminal (CI logs): one plain line per event. With --json: one JSON object per line
 * per event, for a pipeline to parse while the run is still going.
 */
import type { ChalkInstance } from 'chalk';
import type { PollView, RunEvent } from '../analysis/run-loop.js';
import type { Clock } from '../clock.js';
import { formatDuration } from '../plan/duration.js';
import type { Plan } from '../plan/types.js';
import { describeMove, type HistoryEvent } from '../state/types.js';
import { runEventDocument } from './json-documents.js';
import type { Output } from './output.js';
import { paintStatus, paintVerdict, renderReadings } from './readings-table.js';

/** Shows a run's events; `close` stops the live view's refresh. */
export interface RunView {
  show(event: RunEvent): void;
  close(): void;
}

/** The view for `out`: JSON lines, plain lines, or a live terminal view. */
export function createRunView(plan: Plan, out: Output, clock: Clock): RunView {
  if (out.json) return { show: (event) => out.printJson(runEventDocument(plan, event, clock.now())), close: () => undefined };
  if (!out.isTTY) {
    return { show: (event) => out.print(`${new Date(clock.now()).toISOString()} ${describeRunEvent(plan, event, out.color)}`), close: () => undefined };
  }
  return createLiveView(plan, out, clock);
}

function stageLabel(plan: Plan, stageIndex: number, percent: number): string {
  return stageIndex >= 0 ? `${percent}% (stage ${stageIndex + 1}/${plan.stages.length})` : `${percent}%`;
}

const EVENT_PAINT: Partial<Record<HistoryEvent['action'], keyof Pick<ChalkInstance, 'green' | 'yellow' | 'red'>>> = {
  start: 'green',
  advance: 'green',
  complete: 'green',
  recovered: 'green',
  hold: 'yellow',
  drift: 'yellow',
  rollback: 'red',
  'emergency-rollback': 'red',
  'not-recovered': 'red',
};

/** One event as a line of text (the log line without its timestamp). */
export function describeRunEvent(plan: Plan, event: RunEvent, color: ChalkInstance): string {
  switch (event.type) {
    case 'run-start':
      return event.resumed
        ? `run ${event.plan}: resuming at ${stageLabel(plan, event.stageIndex, event.percent)}`
        : `run ${event.plan}: ${event.stages} stages, starting from ${event.percent}%`;
    case 'poll': {
      const readings = event.readings.map((r) => `${r.name} ${r.display} ${paintStatus(r.status, color)}`).join(', ');
      return `${stageLabel(plan, event.stageIndex, event.percent)} ${paintVerdict(event.verdict, color)} → ${event.decision}: ${event.reason}${readings ? ` [${readings}]` : ''}`;
    }
    case 'event': {
      const e = event.event;
      const paint = EVENT_PAINT[e.action];
      const action = paint ? color[paint].bold(e.action) : color.bold(e.action);
      return `${action} ${describeMove(e)} by ${e.actor}: ${e.reason}`;
    }
    case 'notify-failed':
      return color.yellow(`warning: notifying ${event.receiver} ${event.to} of ${event.action} failed: ${event.error}`);
    case 'recovery':
      return event.recovered ? color.green(`metrics recovered after the rollback`) : color.red.bold(`metrics NOT recovered after the rollback: ${event.reason}`);
    case 'store-unavailable':
      return color.yellow(`state store unavailable at ${event.percent}%: ${event.reason}`);
    case 'run-end':
      return `run ended: ${event.outcome} at ${event.percent}% (exit ${event.exitCode}): ${event.reason}`;
  }
}

/** A bar of `width` cells, `fraction` of them full. */
export function progressBar(fraction: number, width = 24): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${'█'.repeat(full)}${'░'.repeat(width - full)}`;
}

/** The live view's block for the latest poll, as of `now` (so the bar moves between polls). */
export function renderLiveBlock(plan: Plan, poll: PollView, polledAt: number, now: number, color: ChalkInstance): string {
  const left = Math.max(0, poll.enteredAt + poll.bakeMs - now);
  const fraction = poll.bakeMs > 0 ? 1 - left / poll.bakeMs : 1;
  const lines = [
    color.bold(`rollout run · ${plan.name} · ${stageLabel(plan, poll.stageIndex, poll.percent)}`),
    `bake [${progressBar(fraction)}] ${Math.floor(fraction * 100)}%  ${left > 0 ? `${formatDuration(left)} left` : 'done'}`,
  ];
  if (plan.metrics.length > 0) lines.push(renderReadings(plan, { readings: poll.readings }, color));
  const ago = formatDuration(now - polledAt);
  lines.push(`last decision (${ago} ago): ${paintVerdict(poll.verdict, color)} → ${poll.decision}: ${poll.reason}`);
  return lines.join('\n');
}

/** Cursor up `n` lines to column 0, then clear to the end of the screen. */
const eraseUp = (n: number) => (n > 0 ? `\x1b[${n}A\r\x1b[J` : '');

const REFRESH_MS = 1000;

function createLiveView(plan: Plan, out: Output, clock: Clock): RunView {
  let latest: { poll: PollView; at: number } | undefined;
  /** Lines of the live block now on screen, to erase before the next draw. */
  let drawn = 0;
  const draw = (logLine?: string) => {
    const block = latest ? renderLiveBlock(plan, latest.poll, latest.at, clock.now(), out.color) : undefined;
    out.print(eraseUp(drawn) + [logLine, block].filter((part) => part !== undefined).join('\n'));
    drawn = block ? block.split('\n').length : 0;
  };
  // Between polls only the bar and the time left change; a refresh keeps them honest.
  const timer = setInterval(() => latest && draw(), REFRESH_MS);
  timer.unref();
  return {
    show(event) {
      if (event.type === 'poll') {
        latest = { poll: event, at: clock.now() };
        draw();
      } else {
        const time = new Date(clock.now()).toLocaleTimeString();
        draw(`${out.color.dim(time)} ${describeRunEvent(plan, event, out.color)}`);
      }
    },
    close: () => clearInterval(timer),
  };
}
