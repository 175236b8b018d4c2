import { chmod, chown, lstat, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TargetError } from '../../src/errors.js';
import type { EnvFileTargetConfig } from '../../src/targets/kinds/env-file.js';
import { processSecrets } from '../../src/plan/secrets.js';
import { createEnvFileTarget, type EnvFileTargetOptions } from '../../src/targets/env-file.js';

const KEY = 'OPENROUTER_ROLLOUT_PERCENTAGE';

// Everything the rewrite must keep: comments, blank lines, export, three quoting styles, inline
// comments, CRLF endings, and no newline at the very end.
const golden = (value: string) =>
  [
    '# Service configuration',
    '',
    'export DATABASE_URL="postgres://app@db/app"',
    "GREETING='hello world' # shown on the home page",
    `  export ${KEY}="${value}"   # managed by rollout`,
    'EMPTY=',
    '# OPENROUTER_ROLLOUT_PERCENTAGE=99',
    'LAST=1',
  ].join('\r\n');

let dir: string;
let envPath: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rollout-env-'));
  envPath = join(dir, '.env');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function target(overrides: Partial<EnvFileTargetConfig> = {}, options?: EnvFileTargetOptions) {
  return createEnvFileTarget({ type: 'env-file', path: envPath, key: KEY, emergency: {}, timeoutMs: 10_000, ...overrides }, options);
}

const leftovers = async () => (await readdir(dir)).filter((f) => f.endsWith('.tmp'));

describe('env-file target', () => {
  it('rewrites the one value and keeps every other byte, the mode and a .bak', async () => {
    await writeFile(envPath, golden('10'));
    await chmod(envPath, 0o600);

    await target().apply(40);

    expect(await readFile(envPath)).toEqual(Buffer.from(golden('40')));
    expect((await stat(envPath)).mode & 0o777).toBe(0o600);
    expect(await readFile(`${envPath}.bak`)).toEqual(Buffer.from(golden('10')));
    expect((await stat(`${envPath}.bak`)).mode & 0o777).toBe(0o600);
    expect(await leftovers()).toEqual([]);
    expect(await target().read()).toBe(40);
  });

  it.skipIf(process.getuid?.() !== 0)('keeps the owner (as root)', async () => {
    await writeFile(envPath, `${KEY}=1\n`);
    await chown(envPath, 4321, 4322);
    await target().apply(5);
    const after = await stat(envPath);
    expect([after.uid, after.gid]).toEqual([4321, 4322]);
  });

  it('refuses to add the key when the file lacks it (a typo in target.key?), changing nothing', async () => {
    await writeFile(envPath, 'A=1\r\n');
    const err = await target().apply(10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as TargetError).exitCode).toBe(6);
    expect((err as Error).message).toBe(`env file ${envPath}: no line sets ${KEY}; add \`${KEY}=0\` to the file if the key is right (a typo in target.key?)`);
    expect(await readFile(envPath, 'utf8')).toBe('A=1\r\n');
    expect(await readdir(dir)).toEqual(['.env']);
  });

  it('adds the key to set 0 %: a rollback only lowers exposure and must not fail on a missing line', async () => {
    await writeFile(envPath, 'A=1\r\n');
    await target().apply(0);
    expect(await readFile(envPath, 'utf8')).toBe(`A=1\r\n${KEY}=0\r\n`);
    expect(await target().read()).toBe(0);
  });

  it('refuses a key set on several lines, naming them, changing nothing', async () => {
    const text = `${KEY}=10\nA=1\n${KEY}=10\n`;
    await writeFile(envPath, text);
    const err = await target().apply(25).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as Error).message).toBe(`env file ${envPath}: ${KEY} is set on lines 1 and 3; rollout changes one line only, so remove all but one`);
    await expect(target().read()).rejects.toThrow(`${KEY} is set on lines 1 and 3`);
    expect(await readFile(envPath, 'utf8')).toBe(text);
  });

  it('refuses a read-only file (also as root), leaving it and its mode alone', async () => {
    await writeFile(envPath, `${KEY}=10\n`);
    await chmod(envPath, 0o444);
    const err = await target().apply(25).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as TargetError).exitCode).toBe(6);
    expect((err as Error).message).toBe(`env file ${envPath} is read-only (mode 0444); rollout does not replace a protected file`);
    expect((err as TargetError).hint).toContain(`chmod u+w ${envPath}`);
    expect(await readFile(envPath, 'utf8')).toBe(`${KEY}=10\n`);
    expect((await stat(envPath)).mode & 0o777).toBe(0o444);
    expect(await readdir(dir)).toEqual(['.env']);
  });

  it('leaves the original intact and no temp file when it crashes between write and rename', async () => {
    await writeFile(envPath, golden('10'));
    let tempSeen = '';
    const crashing = target({}, {
      beforeRename: async (temp) => {
        tempSeen = temp;
        expect(await readFile(temp, 'utf8')).toBe(golden('25'));
        throw new Error('simulated crash');
      },
    });

    const err = await crashing.apply(25).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(TargetError);
    expect((err as Error).message).toContain('simulated crash');
    expect(tempSeen).toMatch(/\/\.\.env\.rollout-\d+-[0-9a-f]+\.tmp$/);
    expect(await readFile(envPath)).toEqual(Buffer.from(golden('10')));
    expect(await leftovers()).toEqual([]);
  });

  it('writes through a symlink without replacing the link', async () => {
    const real = join(dir, 'real.env');
    await writeFile(real, `${KEY}=1\n`);
    await symlink(real, envPath);
    await target().apply(7);
    expect((await lstat(envPath)).isSymbolicLink()).toBe(true);
    expect(await readFile(real, 'utf8')).toBe(`${KEY}=7\n`);
  });

  it('runs `after` in the file directory once the value is written', async () => {
    await writeFile(envPath, `${KEY}=1\n`);
    const script = "const fs=require('fs');fs.writeFileSync('restarted', fs.readFileSync('.env','utf8'))";
    await target({ after: [process.execPath, '-e', script] }).apply(30);
    expect(await readFile(join(dir, 'restarted'), 'utf8')).toBe(`${KEY}=30\n`);
  });

  it('reports a failing `after` with its exit code and last output lines, redacted', async () => {
    processSecrets.add('s3cr3t-restart-token');
    await writeFile(envPath, `${KEY}=1\n`);
    const script = "console.log('stopping app');console.error('restart failed: token s3cr3t-restart-token rejected');process.exit(3)";
    const err = await target({ after: [process.execPath, '-e', script] }).apply(30).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    const message = (err as Error).message;
    expect(message).toContain('exited with code 3');
    expect(message).toContain('stopping app');
    expect(message).toContain('restart failed: token *** rejected');
    expect(message).not.toContain('s3cr3t-restart-token');
  });

  it('sets every emergency key in one rewrite, then runs `after`', async () => {
    await writeFile(envPath, `${KEY}=0\nMAINTENANCE=off\n`);
    const script = "require('fs').appendFileSync('after-runs', 'x')";
    await target({ emergency: { MAINTENANCE: 'on', FALLBACK: 'legacy checkout' }, after: [process.execPath, '-e', script] }).emergency();
    expect(await readFile(envPath, 'utf8')).toBe(`${KEY}=0\nMAINTENANCE=on\nFALLBACK="legacy checkout"\n`);
    // One rewrite: the backup is the file as it was before the emergency, not an intermediate.
    expect(await readFile(`${envPath}.bak`, 'utf8')).toBe(`${KEY}=0\nMAINTENANCE=off\n`);
    expect(await readFile(join(dir, 'after-runs'), 'utf8')).toBe('x');
  });

  it('reads undefined for a missing key and fails on a value that is not a number', async () => {
    await writeFile(envPath, 'A=1\n');
    expect(await target().read()).toBeUndefined();
    await writeFile(envPath, `${KEY}=lots\n`);
    await expect(target().read()).rejects.toThrow(new RegExp(`${envPath}.*${KEY}.*not a percentage`));
  });

  it('reads a percentage written with a % sign', async () => {
    await writeFile(envPath, `${KEY}="25%"\n`);
    expect(await target().read()).toBe(25);
  });

  it('keeps a byte-order mark and refuses a file that is not UTF-8', async () => {
    await writeFile(envPath, `\uFEFF${KEY}=1\n`);
    await target().apply(2);
    expect(await readFile(envPath)).toEqual(Buffer.from(`\uFEFF${KEY}=2\n`));

    const latin1 = Buffer.from(`NAME=Ren\xe9\n${KEY}=1\n`, 'latin1');
    await writeFile(envPath, latin1);
    await expect(target().apply(3)).rejects.toThrow(`env file ${envPath} is not UTF-8 text`);
    expect(await readFile(envPath)).toEqual(latin1);
  });

  it('fails clearly when the file does not exist', async () => {
    await expect(target().apply(10)).rejects.toThrow(`env file ${envPath} does not exist`);
    await expect(target().read()).rejects.toBeInstanceOf(TargetError);
  });
});
