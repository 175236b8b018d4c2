/** The `rollout history` table: one row per event, oldest first. */
import Table from 'cli-table3';
import { describeMove, type HistoryEvent } from '../state/types.js';
import { formatTime } from '../time.js';

/** The events as a table (local times, or UTC with `utc`), or how to begin when there are none yet. */
export function renderHistory(planName: string, events: HistoryEvent[], utc = false): string {
  if (events.length === 0) return `${planName} has no history yet; start it with \`rollout advance\``;
  const table = new Table({ head: ['time', 'action', 'percent', 'actor', 'verdict', 'reason'], style: { head: [], border: [] }, wordWrap: true });
  // An event that moved nothing (complete, hold, drift) reads `at 100%`, not `100% → 100%`.
  for (const e of events) table.push([formatTime(e.time, utc), e.action, describeMove(e), e.actor, e.verdict ?? '', e.reason]);
  return table.toString();
}
