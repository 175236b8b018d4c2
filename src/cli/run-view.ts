/**
 * What `rollout run` prints as it goes. On a terminal: a live view (stage, bake progress bar with
 * time left, the metric table, the last decision) redrawn in place, with events logged above it.
 * Without a terminal (CI logs): one plain line per event. With --json: one JSON object per line
 * per event, for a pipeline to parse while the run is still going.
 */
import type { ChalkInstance } from 'chalk';
import type { PollView, RunEvent, RunOutcomeKind } from '../analysis/run-loop.js';
import type { Clock } from '../clock.js';
import { formatDuration } from '../plan/duration.js';
import type { Plan } from '../plan/types.js';
import { describeMove, type HistoryEvent } from '../state/types.js';
import { runEventDocument } from './json-documents.js';
import type { LiveRegion } from './live-region.js';
import { isCompact, type Output } from './output.js';
import { paintStatus, paintVerdict, renderCompactReadings, renderReadings } from './readings-table.js';
import { formatLogTime, formatTime } from '../time.js';

/** Shows a run's events; `close` stops the live view's refresh. */
export interface RunView {
  show(event: RunEvent): void;
  close(): void;
}

/** The view for `out`: JSON lines, plain lines, or a live terminal view. */
export async function createRunView(plan: Plan, out: Output, clock: Clock): Promise<RunView> {
  if (out.json) return { show: (event) => out.printJson(runEventDocument(plan, event, clock.now())), close: () => undefined };
  if (!out.isTTY) {
    return { show: (event) => out.print(`${formatLogTime(clock.now(), out.utc)} ${describeRunEvent(plan, event, out.color)}`), close: () => undefined };
  }
  return createLiveView(plan, out, clock, (await import('./live-region.js')).createLiveRegion(out));
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

/** What the live view knows: the latest poll, a move recorded since, and how the run ended. */
export interface LiveState {
  poll?: { view: PollView; at: number };
  /** The last history event after that poll that moved the rollout (its percent is now the truth). */
  moved?: HistoryEvent;
  end?: Extract<RunEvent, { type: 'run-end' }>;
  /** Closed without an end (an error stops the run): the last poll is no longer where it stands. */
  stopped?: boolean;
}

const OUTCOME_WORDS: Record<RunOutcomeKind, string> = {
  complete: 'complete at',
  until: 'stopped (--until) at',
  paused: 'paused at',
  approval: 'waiting for approval at',
  'max-hold': 'held too long at',
  timeout: 'timed out at',
  'rolled-back': 'rolled back to',
  interrupted: 'interrupted at',
};

/** Where the rollout stands: the run's end, else a move since the last poll, else that poll's stage. */
function whereNow(plan: Plan, live: LiveState, color: ChalkInstance): string {
  if (live.end) {
    const { outcome, percent } = live.end;
    const words = `${OUTCOME_WORDS[outcome]} ${stageLabel(plan, plan.stages.findIndex((s) => s.percent === percent), percent)} · exit ${live.end.exitCode}`;
    return outcome === 'complete' ? color.green(words) : outcome === 'rolled-back' ? color.red(words) : color.yellow(words);
  }
  if (live.stopped) return color.red('stopped: see the error below');
  if (live.moved) return `${live.moved.action} ${describeMove(live.moved)}`;
  return live.poll ? stageLabel(plan, live.poll.view.stageIndex, live.poll.view.percent) : 'starting';
}

/**
 * The live view's block as of `now` (so the bar moves between polls); `compact` for a terminal
 * narrower than COMPACT_BELOW_COLUMNS (output.ts): shorter header and bar, one metric a line.
 */
export function renderLiveBlock(plan: Plan, live: LiveState, now: number, color: ChalkInstance, options: { compact?: boolean } = {}): string {
  const { poll, end } = live;
  const lines = [color.bold(`${options.compact ? '' : 'rollout run · '}${plan.name} · ${whereNow(plan, live, color)}`)];
  const over = end !== undefined || live.stopped;
  if (poll && !over && !live.moved) {
    const left = Math.max(0, poll.view.enteredAt + poll.view.bakeMs - now);
    const fraction = poll.view.bakeMs > 0 ? 1 - left / poll.view.bakeMs : 1;
    lines.push(`bake [${progressBar(fraction, options.compact ? 10 : 24)}] ${Math.floor(fraction * 100)}%  ${left > 0 ? `${formatDuration(left)} left` : 'done'}`);
  }
  if (poll && plan.metrics.length > 0) lines.push((options.compact ? renderCompactReadings : renderReadings)(plan, { readings: poll.view.readings }, color));
  // After the end, the full reason is printed below the frame (it may be long: how to carry on).
  if (poll && !over) {
    const decision = `${paintVerdict(poll.view.verdict, color)} → ${poll.view.decision}: ${poll.view.reason}`;
    lines.push(options.compact ? decision : `last decision (${formatDuration(now - poll.at)} ago): ${decision}`);
  }
  return lines.join('\n');
}

const REFRESH_MS = 1000;

/** An event that changes where the rollout stands (or ends it), so the last poll's stage is stale. */
const moves = (e: HistoryEvent) => e.from !== e.to || e.action === 'complete';

function createLiveView(plan: Plan, out: Output, clock: Clock, region: LiveRegion): RunView {
  const live: LiveState = {};
  const draw = () => region.render(renderLiveBlock(plan, live, clock.now(), out.color, { compact: isCompact(region.columns()) }));
  // Between polls only the bar and the time left change; a refresh keeps them honest.
  const timer = setInterval(() => live.poll && !live.end && draw(), REFRESH_MS);
  timer.unref();
  let closed = false;
  const logLine = (event: RunEvent) => `${out.color.dim(formatTime(clock.now(), out.utc))} ${describeRunEvent(plan, event, out.color)}`;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    if (!live.end && live.poll) {
      live.stopped = true;
      draw();
    }
    region.done();
  };
  return {
    show(event) {
      if (closed) return;
      if (event.type === 'poll') {
        live.poll = { view: event, at: clock.now() };
        live.moved = undefined;
      } else if (event.type === 'run-end') {
        // The last frame shows where the run ended; the reason follows it in full, never cut.
        live.end = event;
        draw();
        close();
        out.print(logLine(event));
        return;
      } else {
        if (event.type === 'event' && moves(event.event)) live.moved = event.event;
        region.log(logLine(event));
      }
      draw();
    },
    close,
  };
}
