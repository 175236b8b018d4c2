/**
 * The env-file target through the built CLI: `rollout advance` rewrites one line of a real .env and
 * keeps the file's mode, whatever the umask of the process that writes it.
 */
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const KEY = 'APP_ROLLOUT_PERCENT';
const envText = (percent: number) => `# app settings\nexport MODE="live"\n${KEY}=${percent}   # managed by rollout\n`;

it('keeps a mode that the umask would strip (0644 under umask 077), on the file and its .bak', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-env-cli-'));
  const envPath = join(dir, '.env');
  writeFileSync(envPath, envText(0));
  chmodSync(envPath, 0o644);
  writeFileSync(join(dir, 'rollout.yaml'), `version: 1\nname: env-mode\nstages: [10, 100]\ntarget: { type: env-file, path: .env, key: ${KEY} }\n`);
  // The CLI inherits the umask: a temp file created under 077 is 0600 until it is chmod-ed.
  const previous = process.umask(0o077);
  let r: Awaited<ReturnType<typeof runCli>>;
  try {
    r = await runCli(['advance', '--yes'], { cwd: dir });
  } finally {
    process.umask(previous);
  }
  expect(r.code, r.stderr).toBe(0);
  expect(readFileSync(envPath, 'utf8')).toBe(envText(10));
  expect(statSync(envPath).mode & 0o777).toBe(0o644);
  expect(readFileSync(`${envPath}.bak`, 'utf8')).toBe(envText(0));
  expect(statSync(`${envPath}.bak`).mode & 0o777).toBe(0o644);
});
