/** What `rollout advance` prints: the judgement it went by, and one line on what it did (--json: json-documents.ts). */
import type { Judgement } from '../analysis/judge.js';
import { formatDuration } from '../plan/duration.js';
import type { Plan } from '../plan/types.js';
import type { Output } from './output.js';
import { renderJudgement } from './readings-table.js';

/** What an advance did, or with --dry-run would do: the data behind its line and its --json document. */
export interface AdvanceOutcome {
  action: 'start' | 'advance' | 'force' | 'complete' | 'done' | 'critical' | 'hold';
  /** Where the rollout is afterwards: the stage entered (start, advance, force), else the current one; -1 before the first. */
  stageIndex: number;
  dryRun?: boolean;
  from: number;
  to: number;
  reason: string;
  judgement?: Judgement;
}

/** The readings and the verdict an advance goes by; nothing for a plan without metrics. */
export function printAdvanceJudgement(out: Output, plan: Plan, judgement: Judgement): void {
  if (plan.metrics.length > 0) out.print(renderJudgement(plan, judgement, out.color, { reasons: false }));
}

/** `name: 10% → 25% (stage 2/5)`, for the confirmation question and the result line. */
export function describeAdvance(plan: Plan, from: number, to: number, toStage: number): string {
  return `${plan.name}: ${from}% → ${to}% (stage ${toStage + 1}/${plan.stages.length})`;
}

/** Prints the outcome of an advance, one line for people. */
export function printAdvanceOutcome(out: Output, view: { plan: Plan; planFile: string; outcome: AdvanceOutcome }): void {
  out.print(renderOutcome(view.plan, view.planFile, view.outcome, out));
}

function renderOutcome(plan: Plan, planFile: string, o: AdvanceOutcome, { color }: Output): string {
  switch (o.action) {
    case 'start':
    case 'advance':
    case 'force': {
      const summary = describeAdvance(plan, o.from, o.to, o.stageIndex);
      if (o.dryRun) return `would advance ${summary}`;
      return `${color.green('advanced')} ${summary}; bake ${formatDuration(plan.stages[o.stageIndex]?.bakeMs ?? 0)}, then \`rollout advance\` again`;
    }
    case 'complete':
      return o.dryRun ? `would mark ${plan.name} complete` : `${color.green('complete')}: ${plan.name} is at 100% and baked healthy`;
    case 'done':
      return `${plan.name} is already complete at 100%; nothing to do`;
    case 'critical':
      return `${color.red('critical')}: not advancing — ${o.reason}\nroll back with: rollout rollback ${planFile}`;
    case 'hold':
      return `${color.yellow('held')}: ${o.reason}`;
  }
}
