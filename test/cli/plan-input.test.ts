/**
 * Plan input that used to hang or crash the CLI: a FIFO (blocked forever), /dev/zero (15 s and
 * 625 MB), a 600 KB plan with a 300k-item list (seconds and hundreds of MB), a 300-character name
 * (ENAMETOOLONG after creating .rollout/). Each is now exit 2 at once, with a clear message.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rollout-input-'));
});

const PLAN = (name: string, extra = '') => `version: 1
name: ${name}
stages: [10, 100]
target: { type: command, set: [echo, "{{percent}}"] }
${extra}`;

// `validate` of a small plan takes about 0.15 s here, the largest refused input below 0.2 s: the
// bound leaves ten times that for a loaded machine, and is far below what the old code took.
const QUICK_MS = 3_000;

async function timed(args: string[], env: NodeJS.ProcessEnv = {}) {
  const started = performance.now();
  const result = await runCli(args, { cwd: dir, env, timeoutMs: 20_000 });
  return { ...result, ms: performance.now() - started };
}

describe('a plan path that is not a plan file', () => {
  it.each([
    ['a FIFO', () => {
      const fifo = join(dir, 'plan.fifo');
      execFileSync('mkfifo', [fifo]);
      return fifo;
    }, 'not a regular file (a named pipe)'],
    ['/dev/zero', () => '/dev/zero', 'not a regular file (a device)'],
    ['a directory', () => dir, 'is a directory'],
  ])('%s is refused at once with exit 2', async (_what, path, reason) => {
    const file = path();
    const r = await timed(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:1:1: cannot read the plan: ${reason} — pass the path of the plan file`);
    expect(r.ms).toBeLessThan(QUICK_MS);
  });
});

it('a 600 KB plan with a 300k-item list is refused at once with exit 2, before it is parsed', async () => {
  const file = join(dir, 'big.yaml');
  writeFileSync(file, PLAN('big', `x: [${'1,'.repeat(300_000)}1]\n`));
  const r = await timed(['validate', file]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`${file}:1:1: the plan has over 20000 YAML tokens (keys, values, list items)`);
  expect(r.ms).toBeLessThan(QUICK_MS);
});

it('a 300-character name is invalid: advance exits 2 and creates no state directory', async () => {
  const name = 'a'.repeat(300);
  writeFileSync(join(dir, 'rollout.yaml'), PLAN(name));
  const validate = await timed(['validate']);
  expect(validate.code).toBe(2);
  expect(validate.stderr).toContain("rollout.yaml:2:7: name: at most 100 characters: the name is part of the state files' names");
  const advance = await timed(['advance', '--yes']);
  expect(advance.code).toBe(2);
  expect(existsSync(join(dir, '.rollout'))).toBe(false);
  // The longest name allowed works end to end.
  writeFileSync(join(dir, 'rollout.yaml'), PLAN('a'.repeat(100)));
  expect((await timed(['advance', '--yes'])).code).toBe(0);
  expect(existsSync(join(dir, '.rollout', `${'a'.repeat(100)}.history.jsonl`))).toBe(true);
});

it('a secret too short to redact is a warning on stderr, naming the variable and its line', async () => {
  writeFileSync(join(dir, 'rollout.yaml'), PLAN('short', 'sources: { app: { type: json, url: "http://127.0.0.1:9/m", headers: { X-Pin: "pin ${PIN}" } } }\n'));
  const r = await timed(['validate'], { PIN: 'z9' });
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(
    'warning: ./rollout.yaml:5:78: secret ${PIN} is 2 characters; too short to redact safely — it is hidden only within the longer text around it here (a URL, a header); use a longer secret, or write the value into the plan if it is not secret\n',
  );
});
