/** `validate` checks a plan without production secrets: unset `${VAR}`s warn; `--strict-env` and acting commands refuse. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'validate-env-'));
const plan = join(dir, 'rollout.yaml');
writeFileSync(plan, 'version: 1\nname: lint\nstages: [10, 100]\ntarget:\n  type: http\n  set: { url: "http://127.0.0.1:9/flag", headers: { Authorization: "Bearer ${FLAG_TOKEN}" }, body: { p: "{{percent}}" } }\n');

describe('validate and unset variables', () => {
  it('warns with file:line:col and exits 0 without --strict-env', async () => {
    const result = await runCli(['validate', plan]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^warning: .*rollout\.yaml:6:\d+: environment variable FLAG_TOKEN is not set/m);
  });

  it('is an error (exit 2) with --strict-env, and in a command that acts', async () => {
    const strict = await runCli(['validate', plan, '--strict-env']);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/environment variable FLAG_TOKEN is not set/);
    const advance = await runCli(['advance', plan, '--yes']);
    expect(advance.code).toBe(2);
    expect(advance.stderr).toMatch(/environment variable FLAG_TOKEN is not set/);
  });
});
