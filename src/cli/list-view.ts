/** What `rollout list` shows: a row per rollout, as a table (--json: json-documents.ts). */
import Table from 'cli-table3';
import type { ExitCode } from '../errors.js';
import { formatDuration } from '../plan/duration.js';
import type { LockHolder } from '../state/types.js';

/** How a rollout stands, worst last. */
export type ListStatus = 'not started' | 'baking' | 'complete' | 'held' | 'paused' | 'rolled back' | 'drift' | 'emergency' | 'unreadable';

/** One row of the listing, also what its --json item is built from. */
export interface ListedRollout {
  name: string;
  /** The stage, from 1; null before the first. */
  stage: number | null;
  /** How many stages the rollout has, as its state records them; undefined when it records none. */
  stages?: number;
  percent: number;
  status: ListStatus;
  /** What the status rests on: the pause, hold or drift, in words. */
  detail?: string;
  timeInStageMs?: number;
  /** The target's percentage, when its record could be rebuilt and it answered. */
  targetPercent?: number;
  lockHolder?: LockHolder;
  exitCode: ExitCode;
}

/** The rows as a table: stage, percent (and the target's when it differs), status, time in stage, lock. */
export function renderListTable(rows: ListedRollout[]): string {
  const table = new Table({ head: ['rollout', 'stage', 'percent', 'status', 'in stage', 'lock'], style: { head: [], border: [] }, wordWrap: true });
  for (const r of rows) {
    table.push([
      r.name,
      r.stage === null ? '-' : `${r.stage}/${r.stages ?? '?'}`,
      `${r.percent}%${r.targetPercent !== undefined && r.targetPercent !== r.percent ? ` (target ${r.targetPercent}%)` : ''}`,
      `${r.status}${r.detail ? `: ${r.detail}` : ''}`,
      r.timeInStageMs === undefined ? '-' : formatDuration(r.timeInStageMs),
      r.lockHolder ? `${r.lockHolder.actor} (${r.lockHolder.command}, pid ${r.lockHolder.pid} on ${r.lockHolder.host})` : '-',
    ]);
  }
  return table.toString();
}
