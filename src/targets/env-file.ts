/**
 * The `env-file` target: the percentage is one `KEY=value` line of a dotenv-style file. The file
 * is rewritten atomically (temp file in the same directory, fsync, rename, fsync of the
 * directory), so a crash leaves either the old file or the new one, never half of each.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, chown, copyFile, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TargetError } from '../errors.js';
import { literal, removeOrphans } from '../orphans.js';
import { processSecrets } from '../plan/secrets.js';
import { syncDirectory } from '../sync-directory.js';
import { spawnArgv } from './command.js';
import { readEnvValue, setEnvValues } from './env-lines.js';
import { checkReadBack, parsePercent } from './percent.js';
import type { Target } from './target.js';
import type { TargetConfig } from '../plan/types.js';

/** An `env-file` target. */
export interface EnvFileTargetConfig extends TargetConfig {
  type: 'env-file';
  /** Absolute path (resolved against the plan's directory). */
  path: string;
  key: string;
  after?: string[];
  emergency: Record<string, string>;
  timeoutMs: number;
}

/** Test seams of the env-file target. */
export interface EnvFileTargetOptions {
  /**
   * Called with the temp file's path after it is written and synced, before it replaces the
   * file. Tests throw here to simulate a crash between write and rename.
   */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

const isRoot = () => process.getuid?.() === 0;

// Fatal, so a file in another encoding is refused instead of rewritten with its bytes mangled;
// ignoreBOM keeps a byte-order mark in the text, and so in the rewritten file.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Wraps a filesystem or parse failure as a TargetError naming the file. */
function fileError(path: string, err: unknown): TargetError {
  if (err instanceof TargetError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return new TargetError(`env file ${path} is not UTF-8 text`);
  if (code === 'ENOENT') return new TargetError(`env file ${path} does not exist`, 'check `target.path` in the plan');
  const message = err instanceof Error ? err.message : String(err);
  return new TargetError(`env file ${path}: ${processSecrets.redact(message)}`);
}

/** A temp file's path beside `target`, named so that a later sweep can tell its writer (orphans.ts). */
function tempBeside(target: string): string {
  return join(dirname(target), `.${basename(target)}.rollout-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** Removes the temp files beside `target` that a writer killed before its rename left behind. */
function removeOrphansBeside(target: string): Promise<void> {
  return removeOrphans(dirname(target), new RegExp(`^\\.${literal(basename(target))}\\.rollout-(?<pid>\\d+)-[0-9a-f]+\\.tmp$`));
}

/**
 * Refuses a file its owner made read-only: the rename would replace it all the same, since only
 * the directory's permissions count for that. For root, which may write anything, a mode without
 * any write bit is the owner's intent.
 */
async function refuseReadOnly(path: string, real: string): Promise<void> {
  const { mode } = await stat(real);
  const writable = isRoot() ? (mode & 0o222) !== 0 : await access(real, constants.W_OK).then(() => true, () => false);
  if (writable) return;
  throw new TargetError(
    `env file ${path} is read-only (mode ${(mode & 0o7777).toString(8).padStart(4, '0')}); rollout does not replace a protected file`,
    `make it writable (e.g. chmod u+w ${path}) if rollout should change it`,
  );
}

/**
 * Replaces the file at `path` (already resolved through symlinks) with `text`, keeping its mode
 * and (as root) its owner, and the previous content as `backupPath`. Both are replaced whole, by a
 * rename: a crash leaves each old or new, never torn.
 */
async function replaceFile(path: string, text: string, backupPath: string, options: EnvFileTargetOptions): Promise<void> {
  const before = await stat(path);
  const mode = before.mode & 0o7777;
  const dir = dirname(path);
  await Promise.all([removeOrphansBeside(path), removeOrphansBeside(backupPath)]);
  const temp = tempBeside(path);
  const backupTemp = tempBeside(backupPath);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(text, 'utf8');
      // open()'s mode went through the umask; set it exactly.
      await handle.chmod(mode);
      if (isRoot()) await handle.chown(before.uid, before.gid);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await copyFile(path, backupTemp);
    await chmod(backupTemp, mode);
    if (isRoot()) await chown(backupTemp, before.uid, before.gid);
    await rename(backupTemp, backupPath);
    await options.beforeRename?.(temp);
    await rename(temp, path);
  } catch (err) {
    await Promise.all([unlink(temp).catch(() => undefined), unlink(backupTemp).catch(() => undefined)]);
    throw err;
  }
  await syncDirectory(dir);
}

/** A target that keeps the percentage in one line of an env file. */
export function createEnvFileTarget(config: EnvFileTargetConfig, options: EnvFileTargetOptions = {}): Target {
  const { path, key } = config;

  async function readText(): Promise<{ real: string; text: string }> {
    try {
      // Write beside the real file, not beside a symlink to it: rename must not replace the link.
      const real = await realpath(path);
      return { real, text: utf8.decode(await readFile(real)) };
    } catch (err) {
      throw fileError(path, err);
    }
  }

  async function read(): Promise<number | undefined> {
    const { text } = await readText();
    let value: string | undefined;
    try {
      value = readEnvValue(text, key);
    } catch (err) {
      throw fileError(path, err);
    }
    if (value === undefined) return undefined;
    const percent = parsePercent(value);
    if (percent === undefined) {
      throw new TargetError(`env file ${path}: ${key}=${JSON.stringify(processSecrets.redact(value))} is not a percentage`);
    }
    return percent;
  }

  /** One atomic rewrite setting all `values`; keys the file lacks are refused unless `append`. */
  async function write(values: Record<string, string>, append: boolean): Promise<void> {
    const { real, text } = await readText();
    try {
      const next = setEnvValues(text, values, { append });
      await refuseReadOnly(path, real);
      await replaceFile(real, next, `${path}.bak`, options);
    } catch (err) {
      throw fileError(path, err);
    }
  }

  async function runAfter(signal?: AbortSignal): Promise<void> {
    if (!config.after?.length) return;
    // In the file's directory: `docker-compose restart` finds the compose file beside `.env`.
    await spawnArgv(config.after, { label: '`after` command', timeoutMs: config.timeoutMs, cwd: dirname(path), signal });
  }

  return {
    description: `env-file ${path} ${key}`,
    read,
    async apply(percent, signal) {
      // A missing key is refused, so that a typo in target.key cannot roll out to a line nothing
      // reads; but 0 % only lowers exposure, and a rollback (an emergency above all) must not fail on it.
      await write({ [key]: String(percent) }, percent === 0);
      checkReadBack(percent, await read(), `${path} ${key}`);
      await runAfter(signal);
    },
    async emergency(signal) {
      if (Object.keys(config.emergency).length === 0) return;
      // Naming keys under `emergency` is the plan's explicit leave to add them.
      await write(config.emergency, true);
      await runAfter(signal);
    },
  };
}
