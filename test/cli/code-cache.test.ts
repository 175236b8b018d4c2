/**
 * bin/rollout.js keeps V8's compiled code per command in $XDG_CACHE_HOME/rollout (or
 * ~/.cache/rollout): made by a command's first run, used by the next ones, never a reason for a
 * command to fail, hang or answer differently, never trusted when damaged, stale or writable by
 * others, and free of secrets.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliOptions } from '../helpers/cli.js';
import { copyInstall as copyInstallTo } from '../helpers/install.js';
import { sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';

const SECRET = 'tok-3f9c2a71e8b64d05a1c7';
const root = mkdtempSync(join(tmpdir(), 'code-cache-'));
const plan = join(root, 'rollout.yaml');
writeFileSync(plan, 'version: 1\nname: cached\nstages: [10, 100]\ntarget:\n  type: http\n  set: { url: "http://127.0.0.1:9/flag", body: { p: "{{percent}}" } }\n');
const NAME = new RegExp(`^validate\\.${process.version.replace(/\./g, '\\.')}-${process.arch}-[0-9a-f]+\\.v8cache$`);

let made = 0;
/** A directory of its own for one test. */
function freshDir(prefix: string): string {
  const dir = join(root, `${prefix}-${made++}`);
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
/**
 * The code caches of `home`'s install directory: the commands' own (`validate.…`), and with
 * `libraries` those of the packages of dist/lib/ they loaded (`validate+yaml.…`). Its plan caches
 * are test/cli/plan-cache.test.ts's.
 */
const cacheFiles = (home: string, { libraries = false } = {}) =>
  existsSync(join(home, 'rollout')) ? readdirSync(installDir(home)).filter((f) => f.endsWith('.v8cache') && (libraries || !f.includes('+'))).sort() : [];
/** The one command's cache file of `home`'s install directory. */
function onlyCache(home: string): string {
  const files = cacheFiles(home);
  expect(files).toHaveLength(1);
  return join(installDir(home), files[0] as string);
}
const stamp = (path: string) => ({ mtimeMs: statSync(path).mtimeMs, ino: statSync(path).ino });

const copyInstall = () => copyInstallTo(freshDir('install'));

describe('the code cache', () => {
  it('is kept for each package of dist/lib/ a command loads, by itself, even by a run that ends in a plan error', async () => {
    const home = freshDir('cache');
    const broken = join(freshDir('plan'), 'rollout.yaml');
    writeFileSync(broken, 'version: 1\nname: broken\nstages: [10, 100]\nbake: 5m\ntarget:\n  type: env-file\n  path: .env\n  key: PERCENT\n');
    const reference = await run(['validate', broken, '--json'], { ROLLOUT_CODE_CACHE: 'off' });
    expect(reference.code).toBe(2);
    expect(reference.stdout).toContain('unknown key');
    expect(await run(['validate', broken, '--json'], { XDG_CACHE_HOME: home })).toEqual(reference);
    // yaml parses the plan and zod words its problems: their caches are kept; the command's is not, after exit 2.
    expect(cacheFiles(home)).toEqual([]);
    const files = cacheFiles(home, { libraries: true });
    expect(files.map((file) => file.split('.')[0])).toEqual(['validate+yaml', 'validate+zod']);
    for (const file of files) expect(file).toMatch(/^validate\+[a-z]+\.v[\d.]+-[a-z0-9]+-[0-9a-f]+\.v8cache$/);
    const before = files.map((file) => stamp(join(installDir(home), file)));
    expect(await run(['validate', broken, '--json'], { XDG_CACHE_HOME: home })).toEqual(reference);
    expect(files.map((file) => stamp(join(installDir(home), file)))).toEqual(before);
    // A valid plan's run keeps the command's own cache beside them.
    expect((await run(['validate', plan], { XDG_CACHE_HOME: home })).code).toBe(0);
    expect(cacheFiles(home)).toHaveLength(1);
    expect(cacheFiles(home, { libraries: true })).toHaveLength(3);
    expect(await run(['validate', broken, '--json'], { XDG_CACHE_HOME: home })).toEqual(reference);
  });

  it("is made by a command's first run, private to the user, and used as it is by the next runs", async () => {
    const home = freshDir('cache');
    const first = await run(['validate', plan], { XDG_CACHE_HOME: home });
    const path = onlyCache(home);
    expect(path.split('/').pop()).toMatch(NAME);
    expect(readFileSync(path).toString('latin1', 0, 21)).toBe('rollout code cache 2 ');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'rollout')).mode & 0o777).toBe(0o700);
    expect(statSync(installDir(home)).mode & 0o777).toBe(0o700);
    const before = stamp(path);

    const second = await run(['validate', plan], { XDG_CACHE_HOME: home });
    const third = await run(['validate', plan], { XDG_CACHE_HOME: home });
    // Not rewritten: it was used (a cache not used is made again).
    expect(stamp(path)).toEqual(before);
    for (const later of [second, third]) expect(later).toEqual(first);
    expect(first.code).toBe(0);
  });

  it('is kept per command; help, the version and a usage error (a mistyped command) leave none', async () => {
    const home = freshDir('cache');
    for (const args of [['validate', '--help'], ['help', 'validate'], ['-h', 'anything'], ['valdate', plan], ['history', '-V']]) {
      await run(args, { XDG_CACHE_HOME: home });
    }
    expect(cacheFiles(home, { libraries: true })).toEqual([]);
    await run(['validate', plan], { XDG_CACHE_HOME: home });
    await run(['history', plan], { XDG_CACHE_HOME: home });
    expect(cacheFiles(home).map((name) => name.split('.')[0])).toEqual(['history', 'validate']);
  });

  it('is kept per installed copy and per Node flags: copies and flags used in turn keep their own caches', async () => {
    const home = freshDir('cache');
    const copy = copyInstall();
    const runs = [
      () => run(['validate', plan], { XDG_CACHE_HOME: home }),
      () => runCli(['validate', plan], { cwd: root, env: { XDG_CACHE_HOME: home }, bin: join(copy, 'bin', 'rollout.js') }),
      () => run(['validate', plan], { XDG_CACHE_HOME: home, NODE_OPTIONS: '--max-old-space-size=512' }),
    ];
    for (const once of runs) await once();
    const files = () => readdirSync(join(home, 'rollout')).flatMap((dir) => readdirSync(join(home, 'rollout', dir)).filter((f) => f.endsWith('.v8cache') && !f.includes('+')).map((file) => join(home, 'rollout', dir, file)));
    const first = files().map(stamp);
    expect(first).toHaveLength(3);
    for (const once of runs) await once();
    expect(files().map(stamp)).toEqual(first);
  });

  it('is not used when damaged anywhere, even deep in the data, and is made again', async () => {
    const home = freshDir('cache');
    const reference = await run(['validate', plan, '--json'], { ROLLOUT_CODE_CACHE: 'off' });
    await run(['validate', plan, '--json'], { XDG_CACHE_HOME: home });
    const path = onlyCache(home);
    const good = readFileSync(path);
    const headerEnd = good.indexOf(10) + 1;
    // Without its checksum check (off in release builds of V8), bits flipped deep in the data crashed V8 or ran wrong code.
    const damages = [
      Buffer.alloc(4096, 0x5a),
      Buffer.concat([good.subarray(0, good.length - 100)]),
      Buffer.from(good.map((byte, i) => (i > headerEnd + 5000 && i % 9973 === 0 ? byte ^ 0x10 : byte))),
    ];
    for (const damaged of damages) {
      writeFileSync(path, damaged);
      expect(await run(['validate', plan, '--json'], { XDG_CACHE_HOME: home })).toEqual(reference);
      const remade = readFileSync(path);
      expect(remade.equals(damaged)).toBe(false);
      expect(remade.toString('latin1', 0, 21)).toBe('rollout code cache 2 ');
    }
  });

  it('is not used for a bundle changed since, even to the same length', async () => {
    const home = freshDir('cache');
    const copy = copyInstall();
    const bin = join(copy, 'bin', 'rollout.js');
    const before = await runCli(['validate', plan], { cwd: root, env: { XDG_CACHE_HOME: home }, bin });
    expect(before.stdout).toContain('is valid: ');
    const bundle = join(copy, 'dist', 'validate.cjs');
    const text = readFileSync(bundle, 'latin1');
    expect(text.split('is valid: ')).toHaveLength(2);
    writeFileSync(bundle, text.replace('is valid: ', 'IS VALID: '), 'latin1');
    const after = await runCli(['validate', plan], { cwd: root, env: { XDG_CACHE_HOME: home }, bin });
    expect(after.stdout).toContain('IS VALID: ');
  });

  it('is not used for another build, even one of the same size, time and inode (npm sets every time to 1985)', async () => {
    const home = freshDir('cache');
    const copy = copyInstall();
    const bin = join(copy, 'bin', 'rollout.js');
    const bundle = join(copy, 'dist', 'validate.cjs');
    const npmTime = 499162500; // 1985-10-26T08:15:00Z, as npm leaves it
    utimesSync(bundle, npmTime, npmTime);
    const was = statSync(bundle);
    expect((await runCli(['validate', plan], { cwd: root, env: { XDG_CACHE_HOME: home }, bin })).stdout).toContain('is valid: ');
    // A new build (its digest on the first line changed) written over the old file, its time kept.
    const text = readFileSync(bundle, 'latin1');
    const digest = /^\/\*rollout build ([0-9a-f]{16})\*\//.exec(text)?.[1] as string;
    expect(digest).toBeDefined();
    const other = [...digest].map((c) => (c === '0' ? '1' : '0')).join('');
    writeFileSync(bundle, text.replace(digest, other).replace('is valid: ', 'IS VALID: '), 'latin1');
    utimesSync(bundle, npmTime, npmTime);
    const now = statSync(bundle);
    expect([now.size, now.mtimeMs, now.ino]).toEqual([was.size, was.mtimeMs, was.ino]);
    expect((await runCli(['validate', plan], { cwd: root, env: { XDG_CACHE_HOME: home }, bin })).stdout).toContain('IS VALID: ');
  });

  it('is not made with ROLLOUT_CODE_CACHE=off, and without a usable place the command still answers', async () => {
    const home = freshDir('cache');
    const off = await run(['validate', plan], { XDG_CACHE_HOME: home, ROLLOUT_CODE_CACHE: 'off' });
    expect(off.code).toBe(0);
    expect(readdirSync(home)).toEqual([]);

    const notADirectory = join(root, 'a-file');
    writeFileSync(notADirectory, '');
    expect(await run(['validate', plan], { XDG_CACHE_HOME: notADirectory })).toEqual(off);

    // Neither XDG_CACHE_HOME nor HOME, or a relative HOME: no cache, same answer, nothing written here.
    const cwd = freshDir('cwd');
    expect(await runCli(['validate', plan], { cwd, env: { HOME: undefined, XDG_CACHE_HOME: undefined } })).toEqual(off);
    expect(await runCli(['validate', plan], { cwd, env: { HOME: 'relative-home', XDG_CACHE_HOME: undefined } })).toEqual(off);
    expect(readdirSync(cwd)).toEqual([]);

    // Without XDG_CACHE_HOME, the cache goes to ~/.cache/rollout.
    const userHome = freshDir('home');
    expect(await runCli(['validate', plan], { cwd, env: { HOME: userHome, XDG_CACHE_HOME: undefined } })).toEqual(off);
    expect(readdirSync(join(userHome, '.cache', 'rollout'))).toHaveLength(1);
  });

  it('is neither read nor written where another user could write, nor through a link, a FIFO or a device', async () => {
    const reference = await run(['validate', plan], { ROLLOUT_CODE_CACHE: 'off' });

    const shared = freshDir('cache');
    await run(['validate', plan], { XDG_CACHE_HOME: shared });
    const sharedCache = onlyCache(shared);
    rmSync(sharedCache);
    chmodSync(installDir(shared), 0o777);
    expect(await run(['validate', plan], { XDG_CACHE_HOME: shared })).toEqual(reference);
    expect(existsSync(sharedCache)).toBe(false);

    for (const plant of ['symlink', 'fifo', 'device'] as const) {
      const home = freshDir('cache');
      await run(['validate', plan], { XDG_CACHE_HOME: home });
      const path = onlyCache(home);
      rmSync(path);
      const victim = join(root, `victim-${made++}`);
      writeFileSync(victim, 'precious');
      if (plant === 'symlink') symlinkSync(victim, path);
      if (plant === 'fifo') execFileSync('mkfifo', [path]);
      if (plant === 'device') symlinkSync('/dev/zero', path);
      // A FIFO would block a read forever and /dev/zero never end: the run must still end, the same.
      expect(await run(['validate', plan], { XDG_CACHE_HOME: home }, { timeoutMs: 20_000 })).toEqual(reference);
      expect(readFileSync(victim, 'utf8')).toBe('precious');
    }
  });

  it('leaves no temp file when writing fails, and removes those a killed run left', async () => {
    const home = freshDir('cache');
    await run(['validate', plan], { XDG_CACHE_HOME: home });
    const path = onlyCache(home);
    const dir = installDir(home);
    const left = join(dir, `${path.split('/').pop()}.999999.tmp`);
    writeFileSync(left, 'half a cache');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(left, hourAgo, hourAgo);
    // A directory where the cache goes: the rename fails.
    rmSync(path);
    mkdirSync(path);
    writeFileSync(join(path, 'x'), '');
    await run(['validate', plan], { XDG_CACHE_HOME: home });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp') && f !== left.split('/').pop())).toEqual([]);
    // The next successful write clears what a killed run left.
    rmSync(path, { recursive: true });
    await run(['validate', plan], { XDG_CACHE_HOME: home });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  describe('of an emergency rollback (HTTP turns a V8 flag on)', () => {
    let flagApi: TestServer;
    beforeAll(async () => {
      flagApi = await startTestServer((_req, res) => sendJson(res, 200, { ok: true }));
    });
    afterAll(() => flagApi.close());

    it('is accepted by the next run, and holds no secret in any form', async () => {
      const home = freshDir('cache');
      const dir = freshDir('emergency');
      writeFileSync(
        join(dir, 'rollout.yaml'),
        `version: 1\nname: burning\nstages: [10, 100]\ntarget:\n  type: http\n  set: { method: PUT, url: "${flagApi.url}/flag", headers: { Authorization: "Bearer \${FLAG_TOKEN}" }, body: { percentage: "{{percent}}" } }\n`,
      );
      const env = { XDG_CACHE_HOME: home, FLAG_TOKEN: SECRET };
      const first = await runCli(['rollback', '--emergency'], { cwd: dir, env });
      expect(first.code).toBe(0);
      const path = onlyCache(home);
      expect(path.split('/').pop()).toMatch(/^rollback-emergency\./);
      const before = stamp(path);
      const second = await runCli(['rollback', '--emergency'], { cwd: dir, env });
      expect(second.code).toBe(0);
      expect(stamp(path)).toEqual(before);
      expect(flagApi.requests.filter((r) => r.method === 'PUT').map((r) => r.headers.authorization)).toEqual([`Bearer ${SECRET}`, `Bearer ${SECRET}`]);

      // The command's cache, and those of the packages it loaded (undici sent the secret).
      const everyCache = cacheFiles(home, { libraries: true });
      expect(everyCache.map((file) => file.split('.')[0])).toEqual(['rollback-emergency+undici', 'rollback-emergency+yaml', 'rollback-emergency']);
      for (const file of everyCache) {
        const bytes = readFileSync(join(installDir(home), file));
        for (const form of [SECRET, Buffer.from(SECRET).toString('base64'), encodeURIComponent(`Bearer ${SECRET}`)]) {
          expect(bytes.includes(Buffer.from(form, 'latin1'))).toBe(false);
          expect(bytes.includes(Buffer.from(form, 'utf16le'))).toBe(false);
        }
      }
    });
  });
});
