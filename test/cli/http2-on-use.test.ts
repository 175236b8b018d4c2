/**
 * undici's HTTP/1.1 client would load its HTTP/2 client, `node:http2` and `node:tls` with it, on
 * every command that makes a request; the build has it load them on use (scripts/build.mjs), and
 * rollout never negotiates HTTP/2. Checked on the built CLI: an emergency rollback (a PUT) and a
 * status (a GET) load `node:http` but not `node:http2`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';

const PROBE = fileURLToPath(new URL('../fixtures/builtins-probe.cjs', import.meta.url));

let flagApi: TestServer;
beforeAll(async () => {
  flagApi = await startTestServer((req, res) => sendJson(res, 200, { percentage: req.method === 'PUT' ? JSON.parse(req.body).percentage : 0 }));
});
afterAll(() => flagApi.close());

/** Runs `rollout ...args` in `dir`; its exit code and the Node built-ins it loaded. */
async function probed(dir: string, args: string[]): Promise<{ code: number | null; builtins: string[] }> {
  const probe = join(dir, 'builtins');
  const r = await runCli(args, { cwd: dir, env: { NODE_OPTIONS: `--require ${PROBE}`, BUILTINS_PROBE: probe } });
  return { code: r.code, builtins: readFileSync(probe, 'utf8').split('\n') };
}

describe('an HTTP request', () => {
  it('loads node:http, not node:http2 or node:tls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-http2-on-use-'));
    writeFileSync(
      join(dir, 'rollout.yaml'),
      `version: 1\nname: h1\nstages: [10, 100]\ntarget:\n  type: http\n  set: { method: PUT, url: "${flagApi.url}/flag", body: { percentage: "{{percent}}" } }\n  get: { url: "${flagApi.url}/flag", path: percentage }\n`,
    );
    for (const args of [['rollback', '--emergency'], ['status']]) {
      const { code, builtins } = await probed(dir, args);
      expect([args.join(' '), code]).toEqual([args.join(' '), 0]);
      expect(builtins).toContain('http');
      expect(builtins).not.toContain('http2');
      expect(builtins).not.toContain('tls');
    }
    expect(flagApi.requests.map((r) => r.method)).toEqual(expect.arrayContaining(['PUT', 'GET']));
  });
});
