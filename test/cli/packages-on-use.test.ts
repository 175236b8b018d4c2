/**
 * The packages of dist/lib/ are read only by the runs that use them (scripts/build.mjs): `yaml` to
 * parse a plan that is not in the command's plan cache, or to say where a problem is; undici by the
 * first request (src/net/http.ts), not by a command that makes none. So `validate` of a plan from the plan cache with nothing to say reads neither, and
 * every run answers as it does with no cache at all. Checked on the built CLI.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';

const PROBE = fileURLToPath(new URL('../fixtures/lib-probe.cjs', import.meta.url));

/** A directory holding `plan` as rollout.yaml, and a cache directory of its own. */
function planDir(plan: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-libs-'));
  writeFileSync(join(dir, 'rollout.yaml'), plan);
  return dir;
}

/** Runs `rollout ...args` in `dir` with its own caches: the result, and the bundles of dist/lib/ it read. */
async function probed(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ result: CliResult; libs: string[] }> {
  const probe = join(dir, 'libs');
  const result = await runCli(args, { cwd: dir, env: { ...env, XDG_CACHE_HOME: join(dir, 'cache'), NODE_OPTIONS: `--require ${PROBE}`, LIB_PROBE: probe } });
  return { result, libs: readFileSync(probe, 'utf8').split('\n').filter(Boolean).sort() };
}

const QUIET = 'version: 1\nname: quiet\nstages: [10, 100]\ntarget:\n  type: env-file\n  path: .env\n  key: PERCENT\n';

describe('the packages of dist/lib/', () => {
  it('validate reads yaml for a plan not in its plan cache, and nothing for the same plan again', async () => {
    const dir = planDir(QUIET);
    const reference = await runCli(['validate'], { cwd: dir, env: { ROLLOUT_CODE_CACHE: 'off' } });
    expect(reference.code).toBe(0);
    const first = await probed(dir, ['validate']);
    expect(first).toEqual({ result: reference, libs: ['yaml.cjs'] });
    for (let run = 0; run < 2; run++) expect(await probed(dir, ['validate'])).toEqual({ result: reference, libs: [] });
    // An edited plan is parsed again.
    writeFileSync(join(dir, 'rollout.yaml'), QUIET.replace('quiet', 'edited'));
    expect((await probed(dir, ['validate'])).libs).toEqual(['yaml.cjs']);
  });

  it('validate of a plan from its plan cache reads yaml to say where a warning or an error is, at the same line and column', async () => {
    const unset = planDir(`${QUIET}notify:\n  - type: webhook\n    url: "https://hooks.example/\${UNSET_HOOK_PATH}"\n`);
    const tooShort = planDir(QUIET.replace('stages: [10, 100]', 'stages: [10, 100]\nsources:\n  api: { type: prometheus, url: "http://127.0.0.1:9", headers: { Authorization: "Bearer ${SHORT_TOKEN}" } }'));
    const invalid = planDir(QUIET.replace('stages: [10, 100]', 'stages: [10, 100]\nanalysis: { interval: soon }'));
    for (const [dir, env, code] of [[unset, {}, 0], [tooShort, { SHORT_TOKEN: 'ab' }, 0], [invalid, {}, 2]] as const) {
      const reference = await runCli(['validate'], { cwd: dir, env: { ...env, ROLLOUT_CODE_CACHE: 'off' } });
      expect(reference.code).toBe(code);
      expect(reference.stderr).toMatch(/rollout\.yaml:\d+:\d+: /);
      expect(await probed(dir, ['validate'], env)).toEqual({ result: reference, libs: code === 2 ? ['yaml.cjs', 'zod.cjs'] : ['yaml.cjs'] });
      // From the plan cache: yaml only to locate the problem.
      expect(await probed(dir, ['validate'], env)).toEqual({ result: reference, libs: code === 2 ? ['yaml.cjs', 'zod.cjs'] : ['yaml.cjs'] });
    }
  });

  it('rollback --emergency and advance of an env-file target make no request, and read no undici', async () => {
    const dir = planDir(QUIET);
    writeFileSync(join(dir, '.env'), 'PERCENT=0\n');
    const advanced = await probed(dir, ['advance', '--yes']);
    expect([advanced.result.code, advanced.libs]).toEqual([0, ['yaml.cjs']]);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('PERCENT=10\n');
    // The emergency's first run parses the plan (each command has a plan cache of its own); the next reads it from there.
    for (const libs of [['yaml.cjs'], []]) {
      const rolledBack = await probed(dir, ['rollback', '--emergency']);
      expect([rolledBack.result.code, rolledBack.libs]).toEqual([0, libs]);
      expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('PERCENT=0\n');
    }
  });

  describe('for a request', () => {
    let flagApi: TestServer;
    beforeAll(async () => {
      flagApi = await startTestServer((req, res) => sendJson(res, 200, { percentage: req.method === 'PUT' ? JSON.parse(req.body).percentage : 0 }));
    });
    afterAll(() => flagApi.close());

    it('rollback --emergency reads undici, and yaml only for a plan not in its plan cache', async () => {
      const dir = planDir(`version: 1\nname: burning\nstages: [10, 100]\ntarget:\n  type: http\n  set: { method: PUT, url: "${flagApi.url}/flag", body: { percentage: "{{percent}}" } }\n`);
      const first = await probed(dir, ['rollback', '--emergency']);
      expect([first.result.code, first.libs]).toEqual([0, ['undici.cjs', 'yaml.cjs']]);
      const second = await probed(dir, ['rollback', '--emergency']);
      expect([second.result.code, second.libs]).toEqual([0, ['undici.cjs']]);
      expect(flagApi.requests.filter((r) => r.method === 'PUT').map((r) => JSON.parse(r.body))).toEqual([{ percentage: 0 }, { percentage: 0 }]);
    });
  });
});
