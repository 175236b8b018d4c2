/** A copy of the installed package (bin/, dist/*.cjs, dist/lib/*.cjs, package.json) in `dir`, which must exist and be empty. */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export function copyInstall(dir: string): string {
  for (const sub of ['bin', 'dist', 'dist/lib']) mkdirSync(join(dir, sub));
  const bundles = (sub: string) => readdirSync(join(REPO, sub)).filter((f) => f.endsWith('.cjs')).map((f) => `${sub}/${f}`);
  for (const file of ['bin/rollout.js', 'bin/package.json', 'package.json', ...bundles('dist'), ...bundles('dist/lib')]) {
    copyFileSync(join(REPO, file), join(dir, file));
  }
  return dir;
}
