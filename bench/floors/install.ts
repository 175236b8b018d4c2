/**
 * An install of rollout under `dir/<name>` (bin/, package.json) whose one bundle is built from
 * bench/floors/<name>.ts by `scripts/build.mjs --entry`, exactly as the CLI is built; returns its
 * bin/rollout.js. Used by bench/floors.ts and its test (test/cli/build-entry.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export function installFloor(repo: string, dir: string, name: string): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'bin'), { recursive: true });
  for (const file of ['bin/rollout.js', 'bin/package.json', 'package.json']) copyFileSync(join(repo, file), join(root, file));
  execFileSync(process.execPath, [join(repo, 'scripts/build.mjs'), '--entry', join(repo, `bench/floors/${name}.ts`), '--outdir', join(root, 'dist')], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
  return join(root, 'bin/rollout.js');
}
