/**
 * zod loads only for a plan the generated validator rejects (src/plan/plan-shape.generated.ts):
 * `rollout validate` of a valid plan neither evaluates zod nor builds the plan schema, in the
 * built bundle, where a module reached only through `import()` is evaluated when imported.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const VALID = readFileSync(new URL('../fixtures/plans/valid.yaml', import.meta.url), 'utf8');
const PROBE = fileURLToPath(new URL('../fixtures/zod-probe.cjs', import.meta.url));

/** Runs `rollout validate` on `plan`; its exit code and whether zod was initialised. */
async function validate(plan: string): Promise<{ code: number | null; zod: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-lazy-zod-'));
  writeFileSync(join(dir, 'rollout.yaml'), plan);
  const probe = join(dir, 'zod');
  const r = await runCli(['validate'], { cwd: dir, env: { PROM_TOKEN: 'tok-123', NODE_OPTIONS: `--require ${PROBE}`, ZOD_PROBE: probe } });
  return { code: r.code, zod: readFileSync(probe, 'utf8') };
}

describe('zod at start-up', () => {
  it('is not loaded to accept a valid plan, and is to word what is wrong with an invalid one', async () => {
    const [valid, invalid] = await Promise.all([validate(VALID), validate(VALID.replace('interval: 30s', 'interval: soon'))]);
    expect(valid).toEqual({ code: 0, zod: 'false' });
    expect(invalid).toEqual({ code: 2, zod: 'true' });
  });
});
