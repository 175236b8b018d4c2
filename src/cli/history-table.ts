/** The `rollout history` table: one row per event, oldest first. */
import Table from 'cli-table3';
import type { HistoryEvent } from '../state/types.js';

/** The events as a table, or how to begin when there are none yet. */
export function renderHistory(planName: string, events: HistoryEvent[]): string {
  if (events.length === 0) return `${planName} has no history yet; start it with \`rollout advance\``;
  const table = new Table({ head: ['time', 'action', 'from → to', 'actor', 'verdict', 'reason'], style: { head: [], border: [] }, wordWrap: true });
  for (const e of events) table.push([shortTime(e.time), e.action, `${e.from}% → ${e.to}%`, e.actor, e.verdict ?? '', e.reason]);
  return table.toString();
}

/** `2025-03-01T09:00:00.000Z` as `2025-03-01 09:00:00Z`: seconds are enough to read a history by. */
function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
