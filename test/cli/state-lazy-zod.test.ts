/**
 * zod loads only for a stored value the generated validators reject (src/state/state-shape.generated.ts):
 * `rollout rollback --emergency`, `status` and `history` on a healthy state neither evaluate zod
 * nor build a schema, in the built bundle; a corrupt state still loads it, to word the problem as before.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';

const PROBE = fileURLToPath(new URL('../fixtures/zod-probe.cjs', import.meta.url));

let flagApi: TestServer;
beforeAll(async () => {
  flagApi = await startTestServer((_req, res) => sendJson(res, 200, { ok: true }));
});
afterAll(() => flagApi.close());

/** A directory with a plan whose target is the local flag API. */
function planDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-state-lazy-zod-'));
  writeFileSync(join(dir, 'rollout.yaml'), `version: 1\nname: burning\nstages: [10, 100]\ntarget:\n  type: http\n  set: { method: PUT, url: "${flagApi.url}/flag", body: { percentage: "{{percent}}" } }\n`);
  return dir;
}

/** Runs `rollout ...args` in `dir`; its outcome and whether zod was initialised. */
async function probed(dir: string, args: string[]): Promise<{ code: number | null; stderr: string; zod: string }> {
  const probe = join(dir, 'zod');
  const r = await runCli(args, { cwd: dir, env: { NODE_OPTIONS: `--require ${PROBE}`, ZOD_PROBE: probe } });
  return { code: r.code, stderr: r.stderr, zod: readFileSync(probe, 'utf8') };
}

describe('zod when reading state', () => {
  it('is not loaded by `rollback --emergency`, nor by `status` and `history` of the state it leaves', async () => {
    const dir = planDir();
    expect(await probed(dir, ['rollback', '--emergency'])).toMatchObject({ code: 0, zod: 'false' });
    expect(flagApi.requests.some((r) => r.method === 'PUT' && r.body.includes('"percentage":0'))).toBe(true);
    // Again, on the state (planRecord, emergency fence) and history the first one wrote.
    expect(await probed(dir, ['rollback', '--emergency'])).toMatchObject({ code: 0, zod: 'false' });
    expect(await probed(dir, ['status'])).toMatchObject({ code: 0, zod: 'false' });
    expect(await probed(dir, ['history'])).toMatchObject({ code: 0, zod: 'false' });
  });

  it('is not loaded by `status` and `history` of a rollout `advance` started', async () => {
    const dir = planDir();
    expect((await runCli(['advance', '--yes'], { cwd: dir })).code).toBe(0);
    const status = await probed(dir, ['status']);
    expect(status).toMatchObject({ code: 0, zod: 'false' });
    expect(await probed(dir, ['history'])).toMatchObject({ code: 0, zod: 'false' });
  });

  it('is loaded for a corrupt state, which is reported as before', async () => {
    const dir = planDir();
    const state = join(dir, '.rollout', 'burning.json');
    await runCli(['rollback', '--emergency'], { cwd: dir });
    writeFileSync(state, JSON.stringify({ plan: 'burning', stageIndex: 'one' }));
    const status = await probed(dir, ['status']);
    expect(status.zod).toBe('true');
    expect(status.stderr).toContain(
      `${state} is not a valid rollout state at stageIndex: Invalid input: expected number, received string (\`rollout rollback --emergency\` still works; or move ${state} aside)`,
    );
    // The emergency overwrites it, and reads its own write without zod.
    expect(await probed(dir, ['rollback', '--emergency'])).toMatchObject({ code: 0, zod: 'true' });
    expect(await probed(dir, ['status'])).toMatchObject({ code: 0, zod: 'false' });
  });
});
