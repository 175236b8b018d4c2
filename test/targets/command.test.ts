import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TargetError } from '../../src/errors.js';
import type { CommandTargetConfig } from '../../src/targets/kinds/command.js';
import { processSecrets } from '../../src/plan/secrets.js';
import { createCommandTarget } from '../../src/targets/command.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rollout-cmd-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes an executable sh script into the temp dir and returns its path. */
async function script(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

function target(config: Partial<CommandTargetConfig>) {
  return createCommandTarget({ type: 'command', set: [], emergency: [], timeoutMs: 10_000, ...config });
}

describe('command target', () => {
  it('sets through `set` and reads back through `get`', async () => {
    const state = join(dir, 'percent');
    const set = await script('set.sh', `printf '%s' "$1" > "${state}"`);
    const get = await script('get.sh', `printf '%s%%\\n' "$(cat "${state}")"`);
    const t = target({ set: [set, '{{percent}}'], get: [get] });

    await t.apply(25);

    expect(await readFile(state, 'utf8')).toBe('25');
    expect(await t.read()).toBe(25);
  });

  it('cannot read without `get`, and applies without a read-back', async () => {
    const state = join(dir, 'percent');
    const t = target({ set: [await script('set.sh', `printf '%s' "$1" > "${state}"`), '{{percent}}'] });
    expect(await t.read()).toBeUndefined();
    await t.apply(10);
    expect(await readFile(state, 'utf8')).toBe('10');
  });

  it('fails when the read-back disagrees', async () => {
    const t = target({ set: [await script('set.sh', 'exit 0')], get: [await script('get.sh', 'echo 40')] });
    await expect(t.apply(25)).rejects.toThrow(/read back 40% from `get` command ".*get\.sh", expected 25%/);
  });

  it('passes arguments without a shell', async () => {
    const state = join(dir, 'arg');
    const t = target({ set: [await script('set.sh', `printf '%s' "$1" > "${state}"`), '{{percent}}; touch pwned $(touch pwned2)'] });
    await t.apply(5);
    expect(await readFile(state, 'utf8')).toBe('5; touch pwned $(touch pwned2)');
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
    expect(existsSync(join(dir, 'pwned2'))).toBe(false);
  });

  it('reports a failing `set` with its exit code and output tail, secrets redacted', async () => {
    processSecrets.add('tok-cmd-9f8e7d');
    const set = await script('set.sh', 'echo "line one"; echo "flag API said: bad token $2" >&2; exit 2');
    const err = await target({ set: [set, '{{percent}}', 'tok-cmd-9f8e7d'] }).apply(10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    const message = (err as Error).message;
    expect(message).toContain('exited with code 2');
    expect(message).toContain('line one');
    expect(message).toContain('flag API said: bad token ***');
    expect(message).not.toContain('tok-cmd-9f8e7d');
  });

  it('fails when `get` prints something that is not a percentage', async () => {
    const t = target({ set: [await script('set.sh', 'exit 0')], get: [await script('get.sh', 'echo "about half"')] });
    await expect(t.read()).rejects.toThrow(/printed "about half", not a percentage/);
  });

  it('stops a command at its timeout, with whatever it started', async () => {
    const started = Date.now();
    const t = target({ set: [await script('slow.sh', 'echo working; sleep 20; echo done')], timeoutMs: 300 });
    await expect(t.apply(10)).rejects.toThrow(/did not finish within 300 ms:\n\s+working/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('names a program that does not exist', async () => {
    await expect(target({ set: [join(dir, 'missing.sh')] }).apply(1)).rejects.toThrow(/missing\.sh": command not found/);
  });

  it('attempts every emergency command and reports the failures together', async () => {
    const log = join(dir, 'log');
    const ok = await script('ok.sh', `echo "$1" >> "${log}"`);
    const bad = await script('bad.sh', 'echo broken >&2; exit 1');
    const t = target({ emergency: [[ok, 'first'], [bad], [ok, 'third']] });

    const err = await t.emergency().catch((e: unknown) => e);

    expect(await readFile(log, 'utf8')).toBe('first\nthird\n');
    expect(err).toBeInstanceOf(TargetError);
    expect((err as Error).message).toMatch(/1 of 3 emergency actions failed:\n\s+- .*bad\.sh: .*exited with code 1/);
  });
});
