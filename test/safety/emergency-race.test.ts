/**
 * Emergency always wins (issue 13, items 1, 2, 7): a `run` whose write is in flight, an `advance`
 * killed while its `set` program runs, and a store that hangs must all end at 0 % once
 * `rollback --emergency` says so. Real processes, a real flag API on 127.0.0.1, real files.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A flag API whose next PUT of `heldPercent` waits until released, and whose emergency call takes `emergencyMs`. */
async function slowFlagApi(heldPercent: number, emergencyMs: number) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const api = { percentage: 0, puts: [] as number[], heldReceived: false, release, server: undefined as unknown as TestServer };
  api.server = await startTestServer(async (req, res) => {
    if (req.url === '/flag' && req.method === 'GET') return sendJson(res, 200, { percentage: api.percentage });
    if (req.url === '/flag' && req.method === 'PUT') {
      const { percentage } = JSON.parse(req.body) as { percentage: number };
      if (percentage === heldPercent && !api.heldReceived) {
        api.heldReceived = true;
        await gate;
      }
      api.percentage = percentage;
      api.puts.push(percentage);
      return sendJson(res, 200, { percentage });
    }
    if (req.url === '/disable' && req.method === 'POST') {
      await new Promise((r) => setTimeout(r, emergencyMs));
      return sendJson(res, 200, {});
    }
    res.writeHead(404).end();
  });
  servers.push(api.server);
  return api;
}

const until = async (what: string, ok: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

const state = (dir: string) => JSON.parse(readFileSync(join(dir, '.rollout', 'race.json'), 'utf8')) as { percent: number; stageIndex: number; emergency?: unknown };

describe('rollback --emergency against a run whose write is in flight', () => {
  for (const landing of ['during the emergency action', 'after the emergency finished'] as const) {
    it(`ends at 0 % when the run's PUT of 50 % lands ${landing}; the run stops with exit 5`, async () => {
      const api = await slowFlagApi(50, 3000);
      const dir = mkdtempSync(join(tmpdir(), 'race-'));
      writeFileSync(
        join(dir, 'rollout.yaml'),
        `version: 1
name: race
stages: [10, 50, 100]
analysis: { interval: 1s, bake: 1s }
target:
  type: http
  set: { method: PUT, url: "${api.server.url}/flag", body: { percentage: "{{percent}}" } }
  get: { url: "${api.server.url}/flag", path: percentage }
  emergency: [{ method: POST, url: "${api.server.url}/disable" }]
  retries: 0
  timeout: 30s
`,
      );
      const run = startCli(['run', join(dir, 'rollout.yaml')], { timeoutMs: 60_000 });
      await until('the run to send its PUT of 50%', () => api.heldReceived);
      const emergency = startCli(['rollback', join(dir, 'rollout.yaml'), '--emergency'], { timeoutMs: 60_000 });
      if (landing === 'during the emergency action') {
        await until('the emergency to set 0%', () => api.puts.includes(0));
        api.release();
      }
      const done = await emergency.result;
      if (landing === 'after the emergency finished') api.release();
      const ran = await run.result;
      expect(done.code, done.stderr).toBe(0);
      expect(ran.code, ran.stdout + ran.stderr).toBe(5);
      expect(ran.stderr).toMatch(/emergency rollback|rolled back by another command/);
      // The run cannot know how the emergency ends: it never claims it failed.
      expect(ran.stderr).not.toMatch(/did not record/);
      await until('the flag to settle', () => api.percentage === 0, 5000);
      expect(api.percentage).toBe(0);
      expect(state(dir).percent).toBe(0);
      expect(state(dir).emergency).toBeUndefined();
    }, 60_000);
  }
});

describe('rollback --emergency after an advance killed mid-write', () => {
  it('ends the orphaned `set` program before setting 0 %, so it cannot land afterwards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orphan-'));
    const flag = join(dir, 'flag');
    const started = join(dir, 'started');
    writeFileSync(flag, '0\n');
    // The set program: announces itself, waits 3 s, then writes its percentage.
    writeFileSync(
      join(dir, 'rollout.yaml'),
      `version: 1
name: orphan
stages: [10, 100]
analysis: { interval: 1s, bake: 0s }
target:
  type: command
  set: [sh, -c, 'touch "$1"; sleep 3; echo "$2" > "$0"', "${flag}", "${started}", "{{percent}}"]
  get: [cat, "${flag}"]
`,
    );
    const advance = startCli(['advance', join(dir, 'rollout.yaml'), '--yes'], { timeoutMs: 30_000 });
    await until('the set program to start', () => existsSync(started));
    advance.child.kill('SIGKILL');
    await advance.result;
    const emergency = await runCli(['rollback', join(dir, 'rollout.yaml'), '--emergency'], { timeoutMs: 30_000 });
    expect(emergency.code, emergency.stderr).toBe(0);
    // Past the moment the orphan would have written 10.
    await new Promise((r) => setTimeout(r, 4000));
    expect(readFileSync(flag, 'utf8').trim()).toBe('0');
  }, 40_000);
});

describe('rollback --emergency with a broken store', () => {
  const envFilePlan = (dir: string, extra = '') => {
    writeFileSync(join(dir, '.env'), 'PCT=50\n');
    writeFileSync(join(dir, 'rollout.yaml'), `version: 1\nname: stuck\nstages: [10, 50, 100]\ntarget: { type: env-file, path: .env, key: PCT }\n${extra}`);
  };

  it('sets 0 % at once when the lock file is a FIFO nobody writes (it is evicted, never opened blocking)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fifo-'));
    envFilePlan(dir);
    mkdirSync(join(dir, '.rollout'));
    // node:fs cannot make a FIFO; coreutils can.
    execFileSync('mkfifo', [join(dir, '.rollout', 'stuck.lock')]);
    const t0 = Date.now();
    const result = await runCli(['rollback', join(dir, 'rollout.yaml'), '--emergency'], { timeoutMs: 40_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('PCT=0\n');
    // Bounded by the store deadlines (5 s a step), far from "forever"; generous for a loaded machine.
    expect(Date.now() - t0).toBeLessThan(35_000);
  }, 45_000);

  it('sets 0 % when PostgreSQL accepts connections and never answers', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    servers.push({
      close: () =>
        new Promise((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    });
    const port = (silent.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'silentpg-'));
    envFilePlan(dir, `state: { backend: postgres, url: "postgres://u:p@127.0.0.1:${port}/db" }\n`);
    const result = await runCli(['rollback', join(dir, 'rollout.yaml'), '--emergency'], { timeoutMs: 40_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('PCT=0\n');
    expect(result.stderr).toMatch(/lock: lock did not answer within 5000 ms/);
    // One hung step and the store is asked nothing more: no state or fence step waits its turn.
    expect(result.stderr).not.toMatch(/state: state did not answer/);
  }, 45_000);

  it('exits 6 and does not record 0 % when the target fails; the fence stays so nothing else acts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'failing-'));
    writeFileSync(join(dir, 'rollout.yaml'), `version: 1\nname: failing\nstages: [10, 100]\ntarget: { type: command, set: [sh, -c, 'exit 3'] }\n`);
    const result = await runCli(['rollback', join(dir, 'rollout.yaml'), '--emergency'], { timeoutMs: 30_000 });
    expect(result.code).toBe(6);
    const stored = JSON.parse(readFileSync(join(dir, '.rollout', 'failing.json'), 'utf8')) as { emergency?: unknown; rolledBack: boolean };
    expect(stored.rolledBack).toBe(false);
    expect(stored.emergency).toBeDefined();
    const advance = await runCli(['advance', join(dir, 'rollout.yaml'), '--yes']);
    expect(advance.code).toBe(5);
    expect(advance.stderr).toMatch(/emergency rollback .* did not record 0%/);
  }, 40_000);
});
