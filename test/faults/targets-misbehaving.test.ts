/**
 * Fault injection 9: targets that fail while `rollout advance --yes` / `rollout rollback --yes`
 * (the built CLI) apply a change: an http flag API answering 5xx then success, 4xx, hanging, or
 * reading back a wrong value, and an env-file whose `after` command fails. Each ends with its
 * documented exit code, and nothing is half-applied: state, history and target agree afterwards,
 * and the next command goes ahead without reporting drift.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';
import { readStore, tempDir } from './support.js';

/** How the flag API answers one PUT: normally, with an error status, or not at all. */
type PutAnswer = 'apply' | 'hang' | number;

/** A flag API whose answers a test scripts, with JSON metrics that are always healthy. */
interface FlagApi {
  url: string;
  /** The flag's real value: what the service acts on. */
  percentage: number;
  /** Values the PUTs that were applied set, in order. */
  applied: number[];
  /** How the next PUTs are answered, first first; once empty, every PUT is applied. */
  putAnswers: PutAnswer[];
  /** What the next GETs of the flag return instead of the truth, first first. */
  getLies: number[];
}

// Closed at the end, not after each test: the cases run concurrently.
const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startFlagApi(): Promise<FlagApi> {
  const api: FlagApi = { url: '', percentage: 0, applied: [], putAnswers: [], getLies: [] };
  const server = await startTestServer(async (req, res) => {
    if (req.url === '/metrics.json') return sendJson(res, 200, { errorRate: 0.001 });
    if (req.url === '/flag' && req.method === 'GET') return sendJson(res, 200, { percentage: api.getLies.shift() ?? api.percentage });
    if (req.url === '/flag' && req.method === 'PUT') {
      const answer = api.putAnswers.shift() ?? 'apply';
      if (answer === 'hang') return new Promise<void>(() => undefined);
      if (answer !== 'apply') return sendJson(res, answer, { error: `refused with ${answer}` });
      api.percentage = (JSON.parse(req.body) as { percentage: number }).percentage;
      api.applied.push(api.percentage);
      return sendJson(res, 200, { percentage: api.percentage });
    }
    res.writeHead(404).end();
  });
  servers.push(server);
  api.url = server.url;
  return api;
}

const KEY = 'FEATURE_ROLLOUT_PERCENTAGE';
const envText = (percent: number) => `# service settings\nexport MODE="live"\n${KEY}=${percent}   # managed by rollout\nOTHER='x'\n`;

/** A plan for `api`'s metrics with the given target block. */
function planYaml(api: FlagApi, target: string): string {
  return `version: 1
name: faulty
stages: [10, 25, 50, 100]
analysis: { interval: 1s, bake: 0s }
sources:
  app: { type: json, url: "${api.url}/metrics.json", timeout: 10s }
metrics:
  - { name: error_rate, source: app, path: errorRate, unit: ratio, warning: "> 1%", critical: "> 5%" }
${target}
`;
}

/**
 * An http target for `api`. Its timeout is long enough that a loaded machine never turns an answer
 * into a timeout; only the case that must time out (a hang) passes a short one.
 */
const httpTarget = (api: FlagApi, timeout = '5s') => `target:
  type: http
  set: { method: PUT, url: "${api.url}/flag", body: { percentage: "{{percent}}" } }
  get: { url: "${api.url}/flag", path: percentage }
  timeout: ${timeout}
  retries: 2`;

/**
 * The two commands that change the target, where each takes the rollout from 10 %, and what a
 * failure after the target moved leaves: an advance puts the target back; a rollback leaves it
 * where it got (back to the bad percentage would be worse), for the next command to report.
 */
const COMMANDS = [
  { name: 'advance --yes', args: ['advance', '--yes'], to: 25 },
  { name: 'rollback --yes', args: ['rollback', '--yes'], to: 0 },
];

/** A rollout started at 10 % (a healthy first advance), ready for a fault. */
async function startedRollout(target: (api: FlagApi, dir: string) => string) {
  const api = await startFlagApi();
  const dir = tempDir('targets');
  writeFileSync(join(dir, '.env'), envText(0));
  writeFileSync(join(dir, 'rollout.yaml'), planYaml(api, target(api, dir)));
  const rollout = (args: string[]) => runCli(args, { cwd: dir });
  const first = await rollout(['advance', '--yes']);
  expect(first.code, first.stderr).toBe(0);
  const stored = () => readStore(join(dir, '.rollout'), 'faulty');
  return { api, dir, rollout, stored, before: await stored() };
}

type Started = Awaited<ReturnType<typeof startedRollout>>;

/** State and history say `percent`, and so does the target: nothing is half-applied. */
async function expectAgreement(r: Started, targetPercent: number, percent: number): Promise<void> {
  const { state, history } = await r.stored();
  expect(state?.percent).toBe(percent);
  expect(history.at(-1)?.to).toBe(percent);
  expect(targetPercent).toBe(percent);
}

/**
 * After a command failed with the target moved: state and history as before; an advance put the
 * target back to 10 %; a rollback left it at `to`, and the next command reports that as drift.
 */
async function expectSettled(r: Started, stderr: string, to: number, targetPercent: () => number): Promise<void> {
  expect(await r.stored()).toEqual(r.before);
  if (to > 10) {
    expect(stderr).toMatch(/the target was put back to 10%; state is unchanged/);
    await expectAgreement(r, targetPercent(), 10);
    return;
  }
  expect(stderr).toMatch(/the target was left where this attempt got it, not put back to 10%/);
  expect(targetPercent()).toBe(to);
  const next = await r.rollout(['advance', '--yes']);
  expect(next.code).toBe(5);
  expect(next.stderr).toMatch(new RegExp(`drift: state says 10 ?%, target says ${to} ?%`));
}

describe.each(COMMANDS)('http target misbehaving during `rollout $name`', ({ args, to }) => {
  it.concurrent('5xx, then success: retried, applied, exit 0', async () => {
    const r = await startedRollout((api) => httpTarget(api));
    r.api.putAnswers = [503, 502];
    const result = await r.rollout(args);
    expect(result.code, result.stderr).toBe(0);
    expect(r.api.applied).toEqual([10, to]);
    await expectAgreement(r, r.api.percentage, to);
    expect((await r.stored()).history).toHaveLength(r.before.history.length + 1);
  });

  // Neither ever reaches the flag: every PUT of the command (the set with its retries, and an
  // advance's attempt to put the target back) is refused, or hangs.
  it.concurrent.each([
    { fault: '4xx: not retried', answers: [403, 403], stderr: /PUT .*\/flag.* 403[^]*refused with 403(?![^]*attempts)/, timeout: '5s' },
    { fault: 'a hang past the timeout', answers: Array<PutAnswer>(6).fill('hang'), stderr: /no complete answer within 500 ms \(after 3 attempts\)/, timeout: '500ms' },
  ])('$fault: exit 6, nothing changed', async ({ answers, stderr, timeout }) => {
    const r = await startedRollout((api) => httpTarget(api, timeout));
    r.api.putAnswers = [...answers];
    const result = await r.rollout(args);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(stderr);
    expect(r.api.applied).toEqual([10]);
    expect(await r.stored()).toEqual(r.before);
    await expectAgreement(r, r.api.percentage, 10);
    r.api.putAnswers = [];
    expect((await r.rollout(args)).code).toBe(0);
  });

  it.concurrent('a wrong read-back: exit 6, and the target settled as documented', async () => {
    const r = await startedRollout((api) => httpTarget(api));
    // The drift check reads the truth; the read-back after the set says 42.
    r.api.getLies = [10, 42];
    const result = await r.rollout(args);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(new RegExp(`read back 42 ?% from GET .*, expected ${to} ?%`));
    expect(r.api.applied).toEqual(to > 10 ? [10, to, 10] : [10, to]);
    await expectSettled(r, result.stderr, to, () => r.api.percentage);
    // Once the API behaves, the same command goes through and everything agrees.
    const again = await r.rollout(args);
    expect(again.code, again.stderr).toBe(0);
    await expectAgreement(r, r.api.percentage, to);
  });
});

describe.each(COMMANDS)('env-file target whose `after` fails during `rollout $name`', ({ args, to }) => {
  const envTarget = (after: string) => () => `target: { type: env-file, path: .env, key: ${KEY}, after: [sh, -c, '${after}'] }`;
  const fileSays = (r: Started) => () => {
    const text = readFileSync(join(r.dir, '.env'), 'utf8');
    // Whole, and only the key changed: one of the two files the command may leave.
    const percent = [10, to].find((p) => text === envText(p));
    if (percent === undefined) throw new Error(`the env file is neither the old nor the new one: ${text}`);
    return percent;
  };

  it.concurrent('fails on the new value (a restart that does not come up): exit 6, settled as documented', async () => {
    // Fails only while the file holds the new value, so a restart with the old one works.
    const r = await startedRollout(envTarget(`grep -q "^${KEY}=${to} " .env && echo "restart failed" >&2 && exit 1 || exit 0`));
    const result = await r.rollout(args);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/`after` command .* exited with code 1:\s+restart failed/);
    await expectSettled(r, result.stderr, to, fileSays(r));
  });

  it.concurrent('fails every time: exit 6, the file still whole, state unchanged', async () => {
    // Succeeds only for the first advance of startedRollout (no state yet), fails from then on.
    const r = await startedRollout(envTarget(`[ ! -f .rollout/faulty.json ] || exit 7`));
    const result = await r.rollout(args);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/exited with code 7/);
    expect(await r.stored()).toEqual(r.before);
    // An advance rewrites the file back, though that `after` fails too (and says so); a rollback
    // leaves the file at 0 %.
    if (to > 10) expect(result.stderr).toMatch(/putting the target back to 10% failed too/);
    expect(fileSays(r)()).toBe(to > 10 ? 10 : to);
  });
});
