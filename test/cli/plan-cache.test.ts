/**
 * bin/rollout.js keeps, beside each command's code cache, the YAML of the last plan the command
 * read, parsed (src/plan/parse-cache.ts): used for the very same text and build only, never the
 * reason for a different answer, and never holding a secret's value.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeService } from '../helpers/fake-service.js';
import { sendJson, startTestServer } from '../helpers/http-server.js';
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

/** The cache file's header line (bin/rollout.js's) and its entry (src/plan/parse-cache.ts writes its JSON twice). */
function entryOf(path: string): { header: string; entry: { text: string; data: Record<string, unknown> } } {
  const bytes = readFileSync(path, 'utf8');
  const end = bytes.indexOf('\n');
  const [json, copy, ...rest] = bytes.slice(end + 1).split('\n');
  expect(rest).toEqual([]);
  expect(copy).toBe(json);
  return { header: bytes.slice(0, end + 1), entry: JSON.parse(json!) };
}

/** Writes `entry` as the cache file, with `header`, whole. */
function writeEntry(path: string, header: string, entry: unknown): void {
  const json = JSON.stringify(entry);
  writeFileSync(path, `${header}${json}\n${json}`);
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
    writeEntry(path, header, { text: VALID, data: { ...entry.data, stages: [5, 100] } });
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
    writeEntry(path, header, { text: VALID, data: { ...entry.data, stages: [5, 100] } });
    const bundle = join(bin, '..', '..', 'dist', 'validate.cjs');
    utimesSync(bundle, new Date(), new Date(Date.now() - 60_000));
    expect((await validate(plan, home, [], bin)).stdout).toContain('stages 10 → 100%');

    // Damaged: cut short, or one character of the data changed (in one copy of the two).
    const whole = readFileSync(path, 'utf8');
    // In the data of the first copy, the one read.
    const inData = whole.indexOf('127.0.0.1:9/flag', whole.indexOf('"data"')) + '127.0.0.1:'.length;
    expect(inData).toBeLessThan(whole.lastIndexOf('"text"'));
    for (const damaged of [whole.slice(0, whole.length - 20), `${whole.slice(0, inData)}8${whole.slice(inData + 1)}`]) {
      expect(damaged).not.toBe(whole);
      writeFileSync(path, damaged);
      const result = await validate(plan, home, ['--json'], bin);
      expect(result.code).toBe(0);
      expect(readFileSync(path, 'utf8')).toBe(whole);
    }
    // Whole, but no plan's entry (a null, a list): read as none.
    for (const data of [null, [1], 'version: 1']) {
      writeEntry(path, header, { text: VALID, data });
      expect((await validate(plan, home, [], bin)).stdout).toContain('stages 10 → 100%');
    }
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

  it('keeps no plan that holds itself, makes its warnings, or grows many times its size as data', async () => {
    const head = 'version: 1\nname: odd\nstages: [10, 100]\ntarget:\n  type: http\n  set:\n    url: "http://127.0.0.1:9/flag"\n';
    const big = 'x'.repeat(20_000);
    const plans = [
      // An alias inside its own anchor: a plan error (it used to overflow the stack).
      [`${head}    body: &a { p: "{{percent}}", self: *a }\n`, /an alias \(\*name\) inside the node it names/],
      // A collection as a key: YAML's warning on stderr at every run, as without the cache.
      [`${head}    body:\n      p: "{{percent}}"\n      ? [a, b]\n      : 1\n`, /Keys with collection values will be stringified/],
      // Ten aliases of a 20 KB value: 200 KB of data for a 20 KB plan.
      [`${head}    body:\n      p: "{{percent}}"\n      a: &s ${big}\n${Array.from({ length: 10 }, (_, i) => `      a${i}: *s\n`).join('')}`, /^/],
    ] as const;
    for (const [text, expected] of plans) {
      const home = freshDir('cache');
      const plan = writePlan(text);
      const reference = await validate(plan, undefined);
      expect(reference.stdout + reference.stderr.replace(/\(node:\d+\)/g, '(node)')).toMatch(expected);
      const normalised = (r: typeof reference) => ({ ...r, stderr: r.stderr.replace(/\(node:\d+\)/g, '(node)') });
      expect(normalised(await validate(plan, home))).toEqual(normalised(reference));
      expect(planFiles(home)).toEqual([]);
      expect(normalised(await validate(plan, home))).toEqual(normalised(reference));
    }
  });

  it('never sends an emergency rollback anywhere but where the plan says, whatever the cache holds', async () => {
    const flagApi = await startTestServer((_req, res) => sendJson(res, 200, { ok: true }));
    try {
      const home = freshDir('cache');
      const dir = freshDir('emergency');
      writeFileSync(join(dir, 'rollout.yaml'), `version: 1\nname: burning\nstages: [10, 100]\ntarget:\n  type: http\n  set: { method: PUT, url: "${flagApi.url}/A/flag", body: { percentage: "{{percent}}" } }\n`);
      const emergency = () => runCli(['rollback', '--emergency'], { cwd: dir, env: { XDG_CACHE_HOME: home } });
      expect((await emergency()).code).toBe(0);
      const path = onlyPlanFile(home);
      expect(path.split('/').pop()).toMatch(/^rollback-emergency\./);
      // One character of the data changed, as damage would: /A/ becomes /Z/.
      const whole = readFileSync(path, 'utf8');
      const at = whole.indexOf('/A/flag', whole.indexOf('"data"')) + 1;
      expect(at).toBeLessThan(whole.lastIndexOf('"text"'));
      writeFileSync(path, `${whole.slice(0, at)}Z${whole.slice(at + 1)}`);
      expect((await emergency()).code).toBe(0);
      expect(flagApi.requests.filter((r) => r.method === 'PUT').map((r) => r.url)).toEqual(['/A/flag', '/A/flag']);
      // And a whole entry for another text: the plan's own URL still.
      const { header, entry } = entryOf(path);
      writeEntry(path, header, { text: `${entry.text}# another\n`, data: { ...entry.data, target: { type: 'http', set: { method: 'PUT', url: `${flagApi.url}/Z/flag`, body: { percentage: '{{percent}}' } } } } });
      expect((await emergency()).code).toBe(0);
      expect(flagApi.requests.filter((r) => r.method === 'PUT').map((r) => r.url)).toEqual(['/A/flag', '/A/flag', '/A/flag']);
    } finally {
      await flagApi.close();
    }
  });

  it('is written once the command has ended: an emergency rollback sends its PUT first', async () => {
    const flag = await startFakeService();
    try {
      const home = freshDir('cache');
      const dir = freshDir('emergency');
      writeFileSync(join(dir, 'rollout.yaml'), `version: 1\nname: first\nstages: [10, 100]\ntarget:\n  type: http\n  set: { method: PUT, url: "${flag.url}/flag", body: { percentage: "{{percent}}" } }\n`);
      const release = flag.holdNextPut();
      let ended = false;
      const running = runCli(['rollback', '--emergency'], { cwd: dir, env: { XDG_CACHE_HOME: home } }).finally(() => (ended = true));
      const putReceived = () => flag.server.requests.some((r) => r.method === 'PUT');
      while (!ended && !putReceived()) await new Promise((resolve) => setTimeout(resolve, 10));
      // Held mid-request: the plan was read and parsed, and nothing is written yet.
      expect(putReceived()).toBe(true);
      expect(planFiles(home)).toEqual([]);
      release();
      expect((await running).code).toBe(0);
      expect(planFiles(home)).toHaveLength(1);
    } finally {
      await flag.close();
    }
  });
});
