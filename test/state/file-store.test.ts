import { spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateCorruptError, ExitCode } from '../../src/errors.js';
import { lockHolder } from '../../src/state/actor.js';
import { createFileStore } from '../../src/state/file-store.js';
import { COMPACT_AT, KEEP_FULL, KEEP_OLDER } from '../../src/state/samples.js';
import { describeStoreContract, eventFor, sampleAt, stateAt } from './store-contract.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rollout-file-store-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describeStoreContract('file', (plan) => createFileStore({ dir: join(root, 'contract'), plan }));

describe('file store', () => {
  let n = 0;
  /** A fresh state dir (not yet created) with a store on it. */
  function fresh(leaseMs?: number) {
    const dir = join(root, `case-${++n}`, '.rollout');
    const plan = 'checkout-v2';
    return {
      dir,
      plan,
      statePath: join(dir, `${plan}.json`),
      historyPath: join(dir, `${plan}.history.jsonl`),
      lockPath: join(dir, `${plan}.lock`),
      store: createFileStore({ dir, plan, ...(leaseMs ? { leaseMs } : {}) }),
    };
  }

  it('never creates the state directory on read', async () => {
    const { dir, store } = fresh();
    expect(await store.load()).toBeUndefined();
    expect(await store.history()).toEqual([]);
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(store.dir).toBe(dir);
  });

  it('writes state as JSON and history as one event per line', async () => {
    const { plan, store, statePath, historyPath } = fresh();
    await store.save(stateAt(plan, 1), [eventFor(plan, 'a'), eventFor(plan, 'b')]);
    expect(JSON.parse(await readFile(statePath, 'utf8'))).toEqual(stateAt(plan, 1));
    const lines = (await readFile(historyPath, 'utf8')).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[1] ?? '')).toEqual(eventFor(plan, 'b'));
  });

  it('ignores a torn last history line, and the next append cuts it off', async () => {
    const { plan, store, historyPath } = fresh();
    await store.save(stateAt(plan, 1), [eventFor(plan, 'a')]);
    await appendFile(historyPath, '{"time":"2024-05-01T12:00:00.000Z","plan":"chec');
    expect((await store.history()).map((e) => e.reason)).toEqual(['a']);
    await store.append([eventFor(plan, 'b')]);
    expect((await store.history()).map((e) => e.reason)).toEqual(['a', 'b']);
    expect((await readFile(historyPath, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('reports a damaged line inside the history as StateCorruptError naming file:line', async () => {
    const { plan, store, historyPath } = fresh();
    await store.save(stateAt(plan, 1), [eventFor(plan, 'a')]);
    await appendFile(historyPath, 'garbage\n');
    await store.append([eventFor(plan, 'b')]);
    await expect(store.history()).rejects.toThrow(`${historyPath}:2 is not valid JSON`);
  });

  it.each([
    ['invalid JSON', '{"plan": "checkout-v2", "vers'],
    ['the wrong shape', '{"plan": "checkout-v2", "stageIndex": "two"}'],
    ['an empty file', ''],
  ])('reports state with %s as StateCorruptError, and a forced save replaces it', async (_what, content) => {
    const { plan, dir, store, statePath } = fresh();
    await mkdir(dir, { recursive: true });
    await writeFile(statePath, content);
    const err = await store.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateCorruptError);
    expect((err as StateCorruptError).exitCode).toBe(ExitCode.unexpected);
    expect((err as StateCorruptError).message).toContain(statePath);
    expect((err as StateCorruptError).hint).toBe(
      `\`rollout rollback --emergency\` still works; or move ${statePath} aside`,
    );
    await expect(store.save(stateAt(plan, 2), [])).rejects.toBeInstanceOf(StateCorruptError);
    await store.save(stateAt(plan, 1, { percent: 0 }), [eventFor(plan, 'emergency')], { force: true });
    expect(await store.load()).toEqual(stateAt(plan, 1, { percent: 0 }));
  });

  it('takes a lock from another host that has not been refreshed for a lease', async () => {
    const { store, lockPath } = fresh(1_000);
    const remote = { ...lockHolder('run', { ROLLOUT_ACTOR: 'ci' }), host: 'runner-7.ci.invalid' };
    await (await store.lock(remote)).release();
    await store.lock(remote);
    await store.close();
    await expect(store.lock(lockHolder('advance'))).rejects.toThrow(/locked by ci/);
    const old = new Date(Date.now() - 5_000);
    await utimes(lockPath, old, old);
    const lock = await store.lock(lockHolder('advance'));
    expect(lock.tookOverFrom).toBeUndefined();
    await lock.release();
  });

  it('refreshes the lock file of a held lock, so other hosts see it alive', async () => {
    const { store, lockPath } = fresh(1_000);
    const lock = await store.lock(lockHolder('run'));
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPath, old, old);
    // Refreshed every third of the lease; polled, so a late timer on a loaded machine cannot fail it.
    await expect.poll(async () => Date.now() - (await stat(lockPath)).mtimeMs, { timeout: 10_000, interval: 100 }).toBeLessThan(5_000);
    await lock.release();
    await expect(stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('leaves no temp or lock files behind after saves and locks', async () => {
    const { plan, dir, store } = fresh();
    await store.save(stateAt(plan, 1), [eventFor(plan, 'a')]);
    await (await store.lock(lockHolder('advance'))).release();
    expect((await readdir(dir)).sort()).toEqual([`${plan}.history.jsonl`, `${plan}.json`]);
  });

  it('skips a damaged poll-log line (a torn append) instead of failing, and compacts without leftovers', async () => {
    const { plan, dir, store } = fresh();
    await store.appendSamples([sampleAt(1)]);
    const samplesPath = join(dir, `${plan}.samples.jsonl`);
    await appendFile(samplesPath, '{"time":"2024-05-01T12:');
    await store.appendSamples([sampleAt(2)]);
    await store.appendSamples([sampleAt(3)]);
    await appendFile(samplesPath, '{"time":"2024-05-01T12:00:04.000Z","percent":"not a number"}\n');
    // The torn line swallowed the start of the next one: one poll lost, nothing else.
    expect(await store.samples()).toEqual([sampleAt(1), sampleAt(3)]);
    await store.appendSamples(Array.from({ length: COMPACT_AT }, (_, i) => sampleAt(10 + i)));
    const lines = (await readFile(samplesPath, 'utf8')).trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(KEEP_FULL + KEEP_OLDER);
    expect(lines.at(-1)).toBe(JSON.stringify(sampleAt(9 + COMPACT_AT)));
    expect((await readdir(dir)).sort()).toEqual([`${plan}.samples.jsonl`]);
  });

  describe('in a child process that dies or fails at the state rename', () => {
    let bundle: string;
    let child: string;
    beforeAll(async () => {
      // The child runs the real store (bundled from source) with fs.rename patched before it loads.
      bundle = join(root, 'file-store.mjs');
      await build({
        entryPoints: ['src/state/file-store.ts'],
        bundle: true,
        format: 'esm',
        platform: 'node',
        outfile: bundle,
        logLevel: 'warning',
      });
      child = join(root, 'save-child.mjs');
      await writeFile(
        child,
        `import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
const [bundle, dir, plan, mode, state, events] = process.argv.slice(2);
const rename = fsp.rename;
fsp.rename = async (from, to) => {
  if (!to.endsWith(plan + '.json')) return rename(from, to);
  if (mode === 'hang') {
    process.stdout.write('at-rename\\n');
    return new Promise(() => setInterval(() => {}, 1000));
  }
  throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
};
syncBuiltinESMExports();
const { createFileStore } = await import(bundle);
await createFileStore({ dir, plan }).save(JSON.parse(state), JSON.parse(events));
`,
      );
    });

    async function runChild(dir: string, plan: string, mode: 'hang' | 'fail'): Promise<{ code: number | null; signal: string | null; stderr: string }> {
      const proc = spawn(process.execPath, [
        child,
        bundle,
        dir,
        plan,
        mode,
        JSON.stringify(stateAt(plan, 2)),
        JSON.stringify([eventFor(plan, 'child')]),
      ]);
      let stderr = '';
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      proc.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('at-rename')) proc.kill('SIGKILL');
      });
      const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
        proc.on('exit', (c, s) => resolve([c, s])),
      );
      return { code, signal, stderr };
    }

    it('kill -9 between the temp write and the rename leaves the old state, parseable, and saves go on', async () => {
      const { plan, dir, store } = fresh();
      await store.save(stateAt(plan, 1), [eventFor(plan, 'parent')]);
      const { signal, stderr } = await runChild(dir, plan, 'hang');
      expect(signal, stderr).toBe('SIGKILL');
      expect(await store.load()).toEqual(stateAt(plan, 1));
      // History was written first (see file-store.ts): it tells what reached the target.
      expect((await store.history()).map((e) => e.reason)).toEqual(['parent', 'child']);
      // The dead child's save lock is stale (its pid is gone), so the next save is not blocked.
      await store.save(stateAt(plan, 2), [eventFor(plan, 'after')]);
      expect((await store.load())?.version).toBe(2);
    });

    it('a failed state write takes its events back out of the history', async () => {
      const { plan, dir, store } = fresh();
      await store.save(stateAt(plan, 1), [eventFor(plan, 'parent')]);
      const { code, stderr } = await runChild(dir, plan, 'fail');
      expect(code).not.toBe(0);
      expect(stderr).toContain('EIO');
      expect(await store.load()).toEqual(stateAt(plan, 1));
      expect((await store.history()).map((e) => e.reason)).toEqual(['parent']);
    });
  });
});
