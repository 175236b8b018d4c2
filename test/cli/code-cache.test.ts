/**
 * bin/rollout.js keeps V8's compiled code per command in $XDG_CACHE_HOME/rollout (or
 * ~/.cache/rollout): made by a command's first run, used by the next ones, never a reason for a
 * command to fail or to answer differently, and free of secrets.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliOptions } from '../helpers/cli.js';
import { sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';

const REPO = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const SECRET = 'tok-3f9c2a71e8b64d05a1c7';
const root = mkdtempSync(join(tmpdir(), 'code-cache-'));
const plan = join(root, 'rollout.yaml');
writeFileSync(plan, 'version: 1\nname: cached\nstages: [10, 100]\ntarget:\n  type: http\n  set: { url: "http://127.0.0.1:9/flag", body: { p: "{{percent}}" } }\n');

let caches = 0;
/** A cache directory of its own for one test. */
function cacheHome(): string {
  const dir = join(root, `cache-${caches++}`);
  mkdirSync(dir);
  return dir;
}

const run = (args: string[], env: NodeJS.ProcessEnv, options: CliOptions = {}) => runCli(args, { cwd: root, ...options, env });
/** The cache directory of this install (one per installed copy of rollout). */
function installDir(home: string): string {
  const dirs = readdirSync(join(home, 'rollout'));
  expect(dirs).toHaveLength(1);
  return join(home, 'rollout', dirs[0] as string);
}
const cacheFiles = (home: string) => (existsSync(join(home, 'rollout')) ? readdirSync(installDir(home)).sort() : []);

describe('the code cache', () => {
  it("is made by a command's first run, private to the user, and used as it is by the next runs", async () => {
    const home = cacheHome();
    const first = await run(['validate', plan], { XDG_CACHE_HOME: home });
    const [file, ...others] = cacheFiles(home);
    expect(others).toEqual([]);
    expect(file).toMatch(new RegExp(`^validate\\.[0-9a-f]{16}-${process.version.replace(/\./g, '\\.')}-${process.arch}-[0-9a-f]+\\.v8cache$`));
    const path = join(installDir(home), file as string);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'rollout')).mode & 0o777).toBe(0o700);
    expect(statSync(installDir(home)).mode & 0o777).toBe(0o700);
    const made = statSync(path);

    const second = await run(['validate', plan], { XDG_CACHE_HOME: home });
    const third = await run(['validate', plan], { XDG_CACHE_HOME: home });
    // Not rewritten: V8 accepted it (a rejected cache is made again).
    expect(statSync(path).mtimeMs).toBe(made.mtimeMs);
    expect(statSync(path).ino).toBe(made.ino);
    for (const later of [second, third]) expect(later).toEqual(first);
    expect(first.code).toBe(0);
  });

  it('is kept per command, and a usage error (a mistyped command) leaves none', async () => {
    const home = cacheHome();
    await run(['validate', plan], { XDG_CACHE_HOME: home });
    await run(['history', plan], { XDG_CACHE_HOME: home });
    const typo = await run(['valdate', plan], { XDG_CACHE_HOME: home });
    expect(typo.code).toBe(2);
    expect(cacheFiles(home).map((name) => name.split('.')[0])).toEqual(['history', 'validate']);
  });

  it('is kept per installed copy: two installs used in turn keep their own caches', async () => {
    const home = cacheHome();
    const copy = join(root, 'other-install');
    for (const dir of ['bin', 'dist']) mkdirSync(join(copy, dir), { recursive: true });
    for (const file of ['bin/rollout.js', 'bin/package.json', 'package.json', ...readdirSync(join(REPO, 'dist')).filter((f) => f.endsWith('.cjs')).map((f) => `dist/${f}`)]) {
      copyFileSync(join(REPO, file), join(copy, file));
    }
    const runCopy = () => runCli(['validate', plan], { cwd: root, env: { XDG_CACHE_HOME: home }, bin: join(copy, 'bin', 'rollout.js') });
    const runHere = () => run(['validate', plan], { XDG_CACHE_HOME: home });
    await runHere();
    await runCopy();
    const made = readdirSync(join(home, 'rollout')).map((dir) => statSync(join(home, 'rollout', dir, readdirSync(join(home, 'rollout', dir))[0] as string)).mtimeMs);
    expect(made).toHaveLength(2);
    await runHere();
    await runCopy();
    expect(readdirSync(join(home, 'rollout')).map((dir) => statSync(join(home, 'rollout', dir, readdirSync(join(home, 'rollout', dir))[0] as string)).mtimeMs)).toEqual(made);
  });

  it('replaces a corrupt cache and a cache of another build, answering as without one', async () => {
    const home = cacheHome();
    const reference = await run(['validate', plan, '--json'], { ROLLOUT_CODE_CACHE: 'off' });
    await run(['validate', plan, '--json'], { XDG_CACHE_HOME: home });
    const [file] = cacheFiles(home) as [string];
    const path = join(installDir(home), file);
    writeFileSync(path, Buffer.alloc(4096, 0x5a));
    const older = join(installDir(home), `validate.${'0'.repeat(16)}-v0.0.0-${process.arch}-0.v8cache`);
    writeFileSync(older, 'a cache of an earlier build');

    const afterCorruption = await run(['validate', plan, '--json'], { XDG_CACHE_HOME: home });
    expect(afterCorruption).toEqual(reference);
    expect(readFileSync(path).equals(Buffer.alloc(4096, 0x5a))).toBe(false);
    expect(cacheFiles(home)).toEqual([file]);
  });

  it('is not made with ROLLOUT_CODE_CACHE=off, and without a usable place the command still answers', async () => {
    const home = cacheHome();
    const off = await run(['validate', plan], { XDG_CACHE_HOME: home, ROLLOUT_CODE_CACHE: 'off' });
    expect(off.code).toBe(0);
    expect(readdirSync(home)).toEqual([]);

    const notADirectory = join(root, 'a-file');
    writeFileSync(notADirectory, '');
    const blocked = await run(['validate', plan], { XDG_CACHE_HOME: notADirectory });
    expect(blocked).toEqual(off);

    // Neither XDG_CACHE_HOME nor HOME: no cache, same answer.
    const homeless = await runCli(['validate', plan], { cwd: root, env: { HOME: undefined } });
    expect(homeless).toEqual(off);
  });

  describe('of an emergency rollback (HTTP turns a V8 flag on)', () => {
    let flagApi: TestServer;
    beforeAll(async () => {
      flagApi = await startTestServer((_req, res) => sendJson(res, 200, { ok: true }));
    });
    afterAll(() => flagApi.close());

    it('is accepted by the next run, and holds no secret in any form', async () => {
      const home = cacheHome();
      const dir = join(root, 'emergency');
      mkdirSync(dir);
      writeFileSync(
        join(dir, 'rollout.yaml'),
        `version: 1\nname: burning\nstages: [10, 100]\ntarget:\n  type: http\n  set: { method: PUT, url: "${flagApi.url}/flag", headers: { Authorization: "Bearer \${FLAG_TOKEN}" }, body: { percentage: "{{percent}}" } }\n`,
      );
      const env = { XDG_CACHE_HOME: home, FLAG_TOKEN: SECRET };
      const first = await runCli(['rollback', '--emergency'], { cwd: dir, env });
      expect(first.code).toBe(0);
      const [file] = cacheFiles(home) as [string];
      expect(file).toMatch(/^rollback-emergency\./);
      const made = statSync(join(installDir(home), file));
      const second = await runCli(['rollback', '--emergency'], { cwd: dir, env });
      expect(second.code).toBe(0);
      expect(statSync(join(installDir(home), file)).mtimeMs).toBe(made.mtimeMs);
      expect(flagApi.requests.filter((r) => r.method === 'PUT').map((r) => r.headers.authorization)).toEqual([`Bearer ${SECRET}`, `Bearer ${SECRET}`]);

      const bytes = readFileSync(join(installDir(home), file));
      for (const form of [SECRET, Buffer.from(SECRET).toString('base64'), encodeURIComponent(`Bearer ${SECRET}`)]) {
        expect(bytes.includes(Buffer.from(form, 'latin1'))).toBe(false);
        expect(bytes.includes(Buffer.from(form, 'utf16le'))).toBe(false);
      }
    });
  });
});
