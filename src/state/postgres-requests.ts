/**
 * Requests to a running `run` (issue 17), in the PostgreSQL store: the rollout_requests table
 * (migration 3). A request is taken once (`taken_at`, with SKIP LOCKED so two takers never share
 * one), answered in place, and removed as its answer is read or when it is withdrawn untaken.
 */
import type pg from 'pg';
import { processSecrets } from '../plan/secrets.js';
import { parseRequestAnswer, parseRunRequest } from './parse-stored.js';
import type { RequestAnswer, RunRequest, StateStore } from './types.js';

/** Runs `work` on a connection of the store, `doing` naming it in errors. */
type RunQuery = <T>(doing: string, work: (client: pg.PoolClient) => Promise<T>) => Promise<T>;

/** The request methods of the PostgreSQL store for rollout `plan`. */
export function createPostgresRequests(plan: string, run: RunQuery): Pick<StateStore, 'postRequest' | 'takeRequests' | 'answer' | 'takeAnswer' | 'withdrawRequest'> {
  return {
    postRequest: (request: RunRequest) =>
      run('posting a request', (client) =>
        client.query('INSERT INTO rollout_requests (id, plan, request) VALUES ($1, $2, $3::jsonb)', [request.id, plan, JSON.stringify(processSecrets.redactDeep(request))]),
      ).then(() => undefined),

    takeRequests: () =>
      run('taking requests', async (client) => {
        const { rows } = await client.query<{ request: unknown }>(
          `UPDATE rollout_requests SET taken_at = now()
           WHERE id IN (SELECT id FROM rollout_requests WHERE plan = $1 AND taken_at IS NULL FOR UPDATE SKIP LOCKED)
           RETURNING request`,
          [plan],
        );
        return (await Promise.all(rows.map((row) => parseRunRequest(row.request)))).flatMap((request) => request ?? []).sort((a, b) => a.id.localeCompare(b.id));
      }),

    answer: (answer: RequestAnswer) =>
      run('answering a request', (client) =>
        client.query('UPDATE rollout_requests SET answer = $2::jsonb WHERE id = $1', [answer.id, JSON.stringify(processSecrets.redactDeep(answer))]),
      ).then(() => undefined),

    takeAnswer: (id: string) =>
      run('reading an answer', async (client) => {
        const { rows } = await client.query<{ answer: unknown }>('DELETE FROM rollout_requests WHERE id = $1 AND answer IS NOT NULL RETURNING answer', [id]);
        return parseRequestAnswer(rows[0]?.answer);
      }),

    withdrawRequest: (id: string) =>
      run('withdrawing a request', async (client) => {
        const result = await client.query('DELETE FROM rollout_requests WHERE id = $1 AND taken_at IS NULL', [id]);
        return result.rowCount === 1;
      }),
  };
}
