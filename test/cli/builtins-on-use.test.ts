/**
 * Node built-ins the bundled libraries would load at start and rollout never uses are loaded on
 * use (scripts/build.mjs): undici's HTTP/2 client, with `node:http2` and `node:tls` (rollout never
 * negotiates HTTP/2), commander's `node:child_process` (for executable subcommands, which
 * rollout has none of) and chalk's `node:tty` and `node:os` (colour detection). Nor does writing
 * to a file, or having a pipe to write to, cost node:net (src/stdio.ts). Checked on the built CLI.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
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

describe('the built-ins loaded', () => {
  it('by validate: no node:child_process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-builtins-'));
    writeFileSync(join(dir, 'rollout.yaml'), 'version: 1\nname: quiet\nstages: [10, 100]\ntarget:\n  type: env-file\n  path: .env\n  key: PERCENT\n');
    const { code, builtins } = await probed(dir, ['validate']);
    expect(code).toBe(0);
    expect(builtins).toContain('fs');
    expect(builtins).not.toContain('child_process');
  });

  it('by validate writing to files: no net, tty, os or crypto', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-builtins-'));
    writeFileSync(join(dir, 'rollout.yaml'), 'version: 1\nname: quiet\nstages: [10, 100]\ntarget:\n  type: env-file\n  path: .env\n  key: PERCENT\n');
    const probe = join(dir, 'builtins');
    const env = { ...process.env, NODE_OPTIONS: `--require ${PROBE}`, BUILTINS_PROBE: probe, XDG_CACHE_HOME: join(dir, 'cache') };
    // Twice: the second run reads the code cache the first made.
    for (let run = 0; run < 2; run++) execFileSync('bash', ['-c', `node ${BIN} validate > out.txt 2> err.txt`], { cwd: dir, env });
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toContain('is valid');
    const builtins = readFileSync(probe, 'utf8').split('\n');
    expect(builtins).toContain('fs');
    expect(builtins.filter((name) => ['net', 'tty', 'os', 'crypto'].includes(name))).toEqual([]);
  });

  it('by validate writing to a file, with stderr a pipe it never writes to: no net', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-builtins-'));
    // A metric to judge: nothing to warn about on stderr.
    writeFileSync(join(dir, 'rollout.yaml'), readFileSync(new URL('../fixtures/plans/valid.yaml', import.meta.url), 'utf8'));
    const probe = join(dir, 'builtins');
    const env = { ...process.env, PROM_TOKEN: 'tok-4b1e9d02c7', NODE_OPTIONS: `--require ${PROBE}`, BUILTINS_PROBE: probe, XDG_CACHE_HOME: join(dir, 'cache') };
    // Asking whether a pipe is a terminal must not create its stream (net, and a handle on the pipe).
    for (let run = 0; run < 2; run++) expect(execFileSync('bash', ['-c', `node ${BIN} validate 2>&1 > out.txt | cat`], { cwd: dir, env, encoding: 'utf8' })).toBe('');
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toContain('is valid');
    expect(readFileSync(probe, 'utf8').split('\n')).not.toContain('net');
  });

  it('by an HTTP request: node:http, not node:http2 or node:tls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-builtins-'));
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
