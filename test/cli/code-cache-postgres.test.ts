/**
 * The code caches of the packages of dist/lib/ loaded around src/net/http.ts setting a V8 flag at
 * run time (--liftoff-only): undici (loaded before), pg for state in PostgreSQL (after), yaml.
 * bin/rollout.js reads and makes every cache under the flags the process started with, so each is
 * made once and then used.
 */
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { usePostgresRollout } from '../helpers/postgres-rollout.js';

const world = usePostgresRollout('code_cache');

it("keeps pg's own cache for `status`, made once and used by the next runs", async () => {
  const home = mkdtempSync(join(tmpdir(), 'rollout-pg-cache-'));
  const env = { ROLLOUT_STATE_URL: world.url, XDG_CACHE_HOME: home, APP_TOKEN: 'app-secret-token' };
  const started = await runCli(['advance', '--yes'], { cwd: world.dir, env });
  expect(started.stderr).toBe('');
  expect(started.code).toBe(0);
  const caches = () => {
    const [install] = readdirSync(join(home, 'rollout'));
    const dir = join(home, 'rollout', install as string);
    return Object.fromEntries(readdirSync(dir).filter((file) => file.startsWith('status') && file.endsWith('.v8cache')).map((file) => [file.replace(/\..*/, ''), statSync(join(dir, file)).mtimeMs]));
  };
  const first = await runCli(['status'], { cwd: world.dir, env });
  expect(first.code).toBe(0);
  const made = caches();
  expect(Object.keys(made).sort()).toEqual(['status', 'status+pg', 'status+undici', 'status+yaml']);
  for (let run = 0; run < 2; run++) {
    const again = await runCli(['status'], { cwd: world.dir, env });
    expect(again.stdout.split('\n')[0]).toBe(first.stdout.split('\n')[0]);
    expect(again.code).toBe(0);
    // Rejected (made under other flags), it would be written again at every run.
    expect(caches()).toEqual(made);
  }
}, 120_000);
