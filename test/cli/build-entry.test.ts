/**
 * `scripts/build.mjs --entry <file> --outdir <dir>` builds another entry exactly as the CLI is built,
 * for bench/floors.ts: one bundle in dist/rollout.cjs's place (no command bundles, which
 * bin/rollout.js would pick first), run by a copy of bin/rollout.js with its code cache. Checked
 * with two of the floors, so the benchmark cannot rot unseen.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { installFloor } from '../../bench/floors/install.js';
import { sendJson, startTestServer } from '../helpers/http-server.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rollout-build-entry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const install = (name: string) => installFloor(REPO, dir, name);

const cache = join(dir, 'cache');
/** Runs `rollout floor ...args` of an install (not blocking: the test's server answers meanwhile); its exit code and stderr. */
function run(bin: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [bin, 'floor', ...args], { env: { PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: cache }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

describe('build.mjs --entry', () => {
  it('builds the entry alone into dist/rollout.cjs, which bin/rollout.js runs with a code cache', async () => {
    const bin = install('plan');
    const dist = join(dir, 'plan', 'dist');
    expect(readdirSync(dist).filter((f) => f.endsWith('.cjs'))).toEqual(['rollout.cjs']);
    expect(readFileSync(join(dist, 'rollout.cjs'), 'latin1')).toMatch(/^\/\*rollout build [0-9a-f]{16}\*\/\(function \(exports, require, module/);
    expect(existsSync(join(REPO, 'dist', 'plan.cjs'))).toBe(false);

    const first = await run(bin, [join(REPO, 'rollout-plans/docflow-canary.yaml')]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const caches = readdirSync(join(cache, 'rollout'), { recursive: true }).map(String);
    expect(caches.some((f) => /floor\.v[0-9.]+-[a-z0-9]+-[0-9a-f]+\.v8cache$/.test(f))).toBe(true);
    expect((await run(bin, [join(REPO, 'rollout-plans/docflow-canary.yaml')])).status).toBe(0);

    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'version: 1\nstages: [10, 50\n');
    expect((await run(bin, [broken])).status).toBe(1);
  });

  it('the one-PUT floor sends its PUT through rollout’s HTTP client', async () => {
    const bin = install('request');
    const server = await startTestServer((_req, res) => sendJson(res, 200, { percentage: 0 }));
    try {
      const result = await run(bin, [`${server.url}/flag`]);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(server.requests.map((r) => [r.method, r.url, r.body])).toEqual([['PUT', '/flag', '{"percentage":0}']]);
    } finally {
      await server.close();
    }
  });
});
