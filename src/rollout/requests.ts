/**
 * Requests to a running `run` (issue 17), as a requesting command makes them; what the run does
 * with each is analysis/run-requests.ts, and how the command waits for the answer ask-run.ts.
 */
import { randomBytes } from 'node:crypto';
import type { RunRequest } from '../state/types.js';

/** A new request of `kind` by `by` at `now`; its id sorts by time. */
export function newRequest(kind: RunRequest['kind'], by: string, now: number, fields: Pick<RunRequest, 'reason' | 'to'> = {}): RunRequest {
  const id = `${Math.max(0, Math.floor(now)).toString(36).padStart(9, '0').slice(-9)}-${randomBytes(4).toString('hex')}`;
  return { id, kind, by, at: now, ...fields };
}
