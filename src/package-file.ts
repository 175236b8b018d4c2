/**
 * Files shipped with this copy of rollout (README.md, schema/…), found by walking up from this
 * module: src/ in development, dist/rollout.cjs once built.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The absolute path of `relativePath` in the package, or undefined when it is not there. */
export function packageFile(relativePath: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
