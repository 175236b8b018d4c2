/** The `rollout status` screen: where the rollout stands, the target, the metrics with trends, the next action. */
import type { ChalkInstance } from 'chalk';
import type { Judgement } from '../analysis/judge.js';
import type { ExitCode } from '../errors.js';
import { formatDuration } from '../plan/duration.js';
import type { Plan } from '../plan/types.js';
import type { LastRollback, NextStep } from '../rollout/next-step.js';
import type { HistoryEvent, RolloutState } from '../state/types.js';
import { isCompact, type Output } from './output.js';
import { renderCompactReadings, renderJudgement, renderVerdict } from './readings-table.js';
import { formatTime } from '../time.js';
import { sparkline } from './sparkline.js';

/** Everything the status screen shows, also what its --json document is built from (json-documents.ts). */
export interface StatusSnapshot {
  plan: string;
  stage: { index: number; of: number; percent: number } | null;
  /** How many stages the plan has. */
  stages: number;
  /** What state last applied. */
  percent: number;
  /** Why the plan no longer fits the state (stages edited), if it does not. */
  planChange?: string;
  /** Under a plan change, where state says the rollout is: its stage, of the stages it recorded (--json only). */
  recordedStage?: { index: number; of: number };
  /** An emergency rollback that fenced the rollout and did not finish. */
  emergency?: string;
  /** The last unhealthy reading of the stage, from which the bake counts. */
  bakeRestart?: RolloutState['bakeRestart'];
  started: boolean;
  completed: boolean;
  rolledBack: boolean;
  paused?: RolloutState['paused'];
  timeInStageMs?: number;
  bakeLeftMs?: number;
  target: { percent?: number; drift: boolean; message?: string; error?: string };
  verdict?: Judgement['verdict'];
  reasons: string[];
  readings: Judgement['readings'];
  /** After a rollback: why, when, who, and the recovery check's result. */
  rollback?: LastRollback;
  next: NextStep;
  /** What `--exit-code` exits with: as `check`, or 5 on drift, a changed plan or an unfinished emergency. */
  exitCode: ExitCode;
}

/** How many recent judged events the trend column shows. */
const TREND_LENGTH = 12;

/** A sparkline per metric over the last readings (polls, or judged events of the history), for the trend column. */
export function metricTrends(plan: Plan, events: Pick<HistoryEvent, 'metrics'>[]): Map<string, string> {
  const recent = events.filter((e) => Object.keys(e.metrics).length > 0).slice(-TREND_LENGTH);
  return new Map(plan.metrics.map((m) => [m.name, sparkline(recent.map((e) => e.metrics[m.name] ?? null))]));
}

/** One status screen to draw: `now` dates the bake restart and the rollback. */
export interface StatusScreen {
  plan: Plan;
  snapshot: StatusSnapshot;
  judgement?: Judgement;
  trends: Map<string, string>;
  now: number;
}

/** Shows status screens: each printed in full, or for --watch on a terminal redrawn in place. */
export interface StatusDisplay {
  show(screen: StatusScreen): void;
  /** Leaves the last screen as it is. */
  close(): void;
}

/** The display for `out`; `watch` on a terminal redraws one live region instead of printing again. */
export async function createStatusDisplay(out: Output, watch: boolean): Promise<StatusDisplay> {
  const options = () => ({ compact: out.isTTY && isCompact(out.terminalSize()?.columns), utc: out.utc });
  if (!watch || !out.isTTY) return { show: (screen) => out.print(renderStatus(screen, out.color, options())), close: () => undefined };
  const region = (await import('./live-region.js')).createLiveRegion(out);
  return { show: (screen) => region.render(renderStatus(screen, out.color, options())), close: () => region.done() };
}

/** The status screen as text; `compact` for a narrow terminal (one metric a line), times in UTC with `utc`. */
export function renderStatus({ plan, snapshot: s, judgement, trends, now }: StatusScreen, c: ChalkInstance, options: { compact: boolean; utc: boolean }): string {
  const lines: string[] = [];
  const where = s.stage
    ? `stage ${s.stage.index}/${s.stage.of} at ${c.bold(`${s.stage.percent}%`)}`
    : s.planChange
      ? `at ${c.bold(`${s.percent}%`)}`
      : s.rolledBack
        ? `rolled back to ${s.percent}%`
        : 'not started';
  lines.push(`${c.bold(plan.name)}  ${where}${s.completed ? c.green(' (complete)') : ''}${s.paused ? c.yellow(`  PAUSED by ${s.paused.by}: ${s.paused.reason}`) : ''}`);
  if (s.emergency) lines.push(c.red(`EMERGENCY UNFINISHED: ${s.emergency}`));
  if (s.rollback) lines.push(...renderRollback(s.rollback, now, c, options.utc));
  if (s.planChange) lines.push(c.red(`PLAN CHANGED: ${s.planChange}`));
  if (s.stage && !s.completed) {
    lines.push(`in stage ${formatDuration(s.timeInStageMs ?? 0)}, bake ${s.bakeLeftMs ? `${formatDuration(s.bakeLeftMs)} left` : 'done'}`);
    if (s.bakeRestart && s.bakeRestart.at > now - (s.timeInStageMs ?? 0)) {
      lines.push(`bake restarted ${formatDuration(now - s.bakeRestart.at)} ago: ${s.bakeRestart.reason}`);
    }
  }
  lines.push(renderTarget(s.target, c));
  if (judgement && plan.metrics.length > 0) {
    lines.push(
      options.compact
        ? `${renderCompactReadings(plan, judgement, c, trends)}\n${renderVerdict(judgement, c, { reasons: true })}`
        : renderJudgement(plan, judgement, c, { trends, reasons: true }),
    );
  }
  lines.push(`next: ${s.next.text}`);
  return lines.join('\n');
}

/** Why, when and by whom the rollout was rolled back, and whether the metrics recovered. */
function renderRollback(rb: LastRollback, now: number, c: ChalkInstance, utc: boolean): string[] {
  const ago = formatDuration(Math.max(0, now - Date.parse(rb.at)));
  const lines = [c.yellow(`${rb.action === 'emergency-rollback' ? 'emergency rollback' : 'rolled back'} ${rb.from}% → ${rb.to}% by ${rb.by}, ${formatTime(rb.at, utc)} (${ago} ago): ${rb.reason}`)];
  if (rb.recovered === undefined) lines.push('recovery: not checked (`rollout rollback --verify` watches for it)');
  else lines.push(rb.recovered ? c.green(`recovery: ${rb.recovery}`) : c.red(`recovery: ${rb.recovery}`));
  return lines;
}

function renderTarget(target: StatusSnapshot['target'], c: ChalkInstance): string {
  if (target.error) return c.magenta(`target unreadable: ${target.error}`);
  if (target.percent === undefined) return 'target: cannot be read back';
  return target.drift ? c.red(`DRIFT: ${target.message}`) : `target says ${target.percent}%`;
}
