/**
 * An unexpected error is a bug to report: with ROLLOUT_DEBUG=1 its stack trace names the source
 * files it passed through (src/…ts:line:col), not positions in the minified bundle, and without it
 * there is no trace, only the hint. A command left unfinished by one is a failure too.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const PRELOAD = fileURLToPath(new URL('../fixtures/stdout-throws.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'debug-stack-'));
const plan = join(dir, 'rollout.yaml');
writeFileSync(plan, 'version: 1\nname: traced\nstages: [10, 100]\ntarget:\n  type: http\n  set: { url: "http://127.0.0.1:9/flag", body: { p: "{{percent}}" } }\n');

describe('an unexpected error', () => {
  it('prints, with ROLLOUT_DEBUG=1, a stack trace in source positions', async () => {
    const result = await runCli(['validate', plan], { env: { NODE_OPTIONS: `--require ${PRELOAD}`, ROLLOUT_DEBUG: '1' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: stdout failed on purpose$/m);
    expect(result.stderr).toMatch(/at \S+ \(\S*src\/cli\/output\.ts:\d+:\d+\)/);
    expect(result.stderr).toMatch(/src\/commands\/validate\.ts:\d+:\d+/);
    expect(result.stderr).not.toMatch(/dist\/\w+\.cjs:\d+:\d+/);
  });

  it('prints no stack trace without ROLLOUT_DEBUG', async () => {
    const result = await runCli(['validate', plan], { env: { NODE_OPTIONS: `--require ${PRELOAD}` } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/hint: this is a bug in rollout; rerun with ROLLOUT_DEBUG=1/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('that leaves the command unfinished exits 1, never 0 as Node would once nothing is left to run', async () => {
    const never = fileURLToPath(new URL('../fixtures/stdout-never-written.cjs', import.meta.url));
    const result = await runCli(['validate', plan], { env: { NODE_OPTIONS: `--require ${never}` } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: rollout stopped before its command finished$/m);
  });
});
