/**
 * bin/rollout.js keeps, beside each command's code cache, the YAML of the last plan the command
 * read, parsed (src/plan/parse-cache.ts): used for the very same text and build only, never the
 * reason for a different answer, and never holding a secret's value.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { copyInstall } from '../helpers/install.js';

const SECRET = 'tok-7d1e94c2b5a8f3066e2b';
const root = mkdtempSync(join(tmpdir(), 'plan-cache-'));
let made = 0;
function freshDir(prefix: string): string {
  const dir = join(root, `${prefix}-${made++}`);
  mkdirSync(dir);
  return dir;
}

/** `rollout validate <plan> ...args` with the caches in `home` (none when `home` is undefined). */
const validate = (plan: string, home: string | undefined, args: string[] = [], bin?: string) =>
  runCli(['validate', plan, ...args], { cwd: root, env: home ? { XDG_CACHE_HOME: home, FLAG_TOKEN: SECRET } : { ROLLOUT_CODE_CACHE: 'off', FLAG_TOKEN: SECRET }, bin });

/** The plan cache files of `home` (all installs). */
function planFiles(home: string): string[] {
  if (!existsSync(join(home, 'rollout'))) return [];
  return readdirSync(join(home, 'rollout')).flatMap((install) =>
    readdirSync(join(home, 'rollout', install)).filter((f) => f.endsWith('.plan')).map((f) => join(home, 'rollout', install, f)),
  );
}
function onlyPlanFile(home: string): string {
  const files = planFiles(home);
  expect(files).toHaveLength(1);
  return files[0]!;
}

/** The cache file's header line and its entry. */
function entryOf(path: string): { header: string; entry: { text: string; data: Record<string, unknown> } } {
  const bytes = readFileSync(path, 'utf8');
  const end = bytes.indexOf('\n');
  return { header: bytes.slice(0, end + 1), entry: JSON.parse(bytes.slice(end + 1)) };
}

function writePlan(text: string): string {
  const plan = join(freshDir('plan'), 'rollout.yaml');
  writeFileSync(plan, text);
  return plan;
}

const VALID = 'version: 1\nname: kept\nstages: [10, 100]\ntarget:\n  type: http\n  set: { url: "http://127.0.0.1:9/flag", headers: { Authorization: "Bearer ${FLAG_TOKEN}" }, body: { p: "{{percent}}" } }\n';

describe('the plan cache', () => {
  it('is read for the very same text only: an edited plan is parsed again, and kept in its place', async () => {
    const home = freshDir('cache');
    const plan = writePlan(VALID);
    const first = await validate(plan, home);
    expect(first.stdout).toContain('stages 10 → 100%');
    const path = onlyPlanFile(home);
    expect(path.split('/').pop()).toMatch(new RegExp(`^validate\\.${process.version.replace(/\./g, '\\.')}-${process.arch}-[0-9a-f]+\\.plan$`));
    const { header, entry } = entryOf(path);
    expect(entry.text).toBe(VALID);
    expect(entry.data.stages).toEqual([10, 100]);

    // Proof that the next run reads it: an entry saying otherwise for the same text is believed.
    writeFileSync(path, header + JSON.stringify({ text: VALID, data: { ...entry.data, stages: [5, 100] } }));
    expect((await validate(plan, home)).stdout).toContain('stages 5 → 100%');

    // Another text (one comment more) is parsed, and replaces the entry.
    writeFileSync(plan, `${VALID}# edited\n`);
    expect((await validate(plan, home)).stdout).toContain('stages 10 → 100%');
    expect(entryOf(onlyPlanFile(home)).entry.text).toBe(`${VALID}# edited\n`);
  });

  it('is not used by another build (a bundle with another time), nor when damaged', async () => {
    const home = freshDir('cache');
    const bin = join(copyInstall(freshDir('install')), 'bin', 'rollout.js');
    const plan = writePlan(VALID);
    expect((await validate(plan, home, [], bin)).code).toBe(0);
    const path = onlyPlanFile(home);
    const { header, entry } = entryOf(path);
    writeFileSync(path, header + JSON.stringify({ text: VALID, data: { ...entry.data, stages: [5, 100] } }));
    const bundle = join(bin, '..', '..', 'dist', 'validate.cjs');
    utimesSync(bundle, new Date(), new Date(Date.now() - 60_000));
    expect((await validate(plan, home, [], bin)).stdout).toContain('stages 10 → 100%');

    writeFileSync(path, `${entryOf(path).header}{"text": "version: 1`);
    expect((await validate(plan, home, [], bin)).stdout).toContain('stages 10 → 100%');
    expect(entryOf(path).entry.text).toBe(VALID);
  });

  it('answers as parsing does, problems and warnings located alike, for valid and invalid plans', async () => {
    const plans = [
      VALID,
      // Unset and too-short secrets: warnings with their line and column.
      'version: 1\nname: warned\nstages: [10, 100]\ntarget:\n  type: http\n  set: { url: "http://127.0.0.1:9/${UNSET_HOST}", headers: { X: "${FLAG_TOKEN}${SHORT}" }, body: { p: "{{percent}}" } }\n',
      // Schema problems: errors with theirs.
      'version: 1\nname: broken\nstages: [10, 100]\nbake: 5m\ntarget:\n  type: env-file\n  path: .env\n  key: PERCENT\nmetrics:\n  - name: x\n    warning: "> 1%"\n',
    ];
    const located = [/is valid: kept, stages 10 → 100%|"valid":true/, /rollout\.yaml:6:\d+: environment variable UNSET_HOST is not set/, /rollout\.yaml:4:1: unknown key "bake"/];
    for (const [i, text] of plans.entries()) {
      const plan = writePlan(text);
      for (const args of [[], ['--json'], ['--strict-env']]) {
        const home = freshDir('cache');
        const reference = await validate(plan, undefined, args);
        expect(reference.stdout + reference.stderr).toMatch(new RegExp(located[i]!.source, 'm'));
        expect(await validate(plan, home, args)).toEqual(reference);
        expect(planFiles(home)).toHaveLength(1);
        expect(await validate(plan, home, args)).toEqual(reference);
      }
    }
  }, 60_000);

  it('holds the plan as written, ${VAR}s unfilled, never a secret; a run that reads it leaves it as it was', async () => {
    const home = freshDir('cache');
    const plan = writePlan(VALID);
    await validate(plan, home);
    const path = onlyPlanFile(home);
    const before = { mtimeMs: statSync(path).mtimeMs, ino: statSync(path).ino };
    await validate(plan, home);
    expect({ mtimeMs: statSync(path).mtimeMs, ino: statSync(path).ino }).toEqual(before);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const bytes = readFileSync(path);
    expect(bytes.includes('Bearer ${FLAG_TOKEN}')).toBe(true);
    for (const form of [SECRET, Buffer.from(SECRET).toString('base64'), encodeURIComponent(SECRET)]) {
      expect(bytes.includes(Buffer.from(form, 'latin1'))).toBe(false);
      expect(bytes.includes(Buffer.from(form, 'utf16le'))).toBe(false);
    }
  });

  it('keeps nothing JSON would change (.inf, .nan, -0), and those plans answer as parsing does', async () => {
    for (const value of ['.inf', '-.inf', '.nan', '-0']) {
      const home = freshDir('cache');
      const plan = writePlan(`version: 1\nname: odd\nstages: [10, 100]\ntarget:\n  type: env-file\n  path: .env\n  key: PERCENT\nanalysis: { interval: 30s, failureLimit: ${value} }\n`);
      const reference = await validate(plan, undefined, ['--json']);
      expect(await validate(plan, home, ['--json'])).toEqual(reference);
      expect(planFiles(home)).toEqual([]);
      expect(await validate(plan, home, ['--json'])).toEqual(reference);
    }
  });
});
