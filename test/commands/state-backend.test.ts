/**
 * The plan's own `state: { backend: postgres }` block, end to end: no --state flag, the URL from
 * the plan (a ${VAR}) or from ROLLOUT_STATE_URL, against a REAL PostgreSQL started for this file.
 * State and history live in the database, none beside the plan, and the password is never printed.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { servicePlan } from '../helpers/fake-service.js';
import { expectNoPassword, usePostgresRollout } from '../helpers/postgres-rollout.js';

const world = usePostgresRollout('backend', (service) => servicePlan(service, { extra: 'state: { backend: postgres, url: "${ROLLOUT_DATABASE_URL}" }\n' }));
const rollout = (args: string[], env: NodeJS.ProcessEnv = { ROLLOUT_DATABASE_URL: world.url }) =>
  runCli(args, { cwd: world.dir, env: { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'alice', ...env } });

async function storedRows(): Promise<{ percent: number; actions: string[] }> {
  const client = new pg.Client({ connectionString: world.url });
  await client.connect();
  try {
    const state = await client.query<{ state: { percent: number } }>("SELECT state FROM rollout_state WHERE plan = 'e2e'");
    const history = await client.query<{ event: { action: string } }>("SELECT event FROM rollout_history WHERE plan = 'e2e' ORDER BY id");
    return { percent: state.rows[0]?.state.percent ?? -1, actions: history.rows.map((r) => r.event.action) };
  } finally {
    await client.end();
  }
}

describe('state: { backend: postgres } in the plan', () => {
  it('advance, status, history and rollback keep state in the database named by the plan', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await rollout(['advance', '--yes']);
      expect(r.code, r.stderr).toBe(0);
      expectNoPassword(world.server, r);
    }
    expect(await storedRows()).toEqual({ percent: 25, actions: ['start', 'advance'] });
    expect(existsSync(join(world.dir, '.rollout', 'e2e.json'))).toBe(false);

    const status = await rollout(['status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ stage: 2, percent: 25, target: { percent: 25, drift: false } });
    const history = (JSON.parse((await rollout(['history', '--json'])).stdout) as { events: { action: string }[] }).events;
    expect(history.map((e) => e.action)).toEqual(['start', 'advance']);
    expect((await rollout(['rollback', '--yes'])).code).toBe(0);
    expect(await storedRows()).toEqual({ percent: 0, actions: ['start', 'advance', 'rollback'] });
    expect(world.service.puts).toEqual([10, 25, 0]);
  });

  it('the plan variable unset: an error naming it (exit 2), nothing applied', async () => {
    const r = await rollout(['advance', '--yes'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ROLLOUT_DATABASE_URL');
    expect(world.service.puts).toEqual([]);
  });

  it('without a URL in the plan, ROLLOUT_STATE_URL supplies it; with neither, exit 2 says where to give one', async () => {
    world.service.percentage = 0;
    writeFileSync(join(world.dir, 'rollout.yaml'), servicePlan(world.service, { extra: 'state: { backend: postgres }\n' }));
    const missing = await rollout(['advance', '--yes'], {});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/state\.backend is postgres but no database URL is given/);
    expect(missing.stderr).toMatch(/hint: set state\.url in the plan, pass --state postgres:\/\/…, or set ROLLOUT_STATE_URL/);
    expect(world.service.puts).toEqual([]);

    const r = await rollout(['advance', '--yes'], { ROLLOUT_STATE_URL: world.url });
    expect(r.code, r.stderr).toBe(0);
    expectNoPassword(world.server, r);
    expect(await storedRows()).toEqual({ percent: 10, actions: ['start'] });
  });
});
