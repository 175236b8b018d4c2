/**
 * `--json` is a contract (issue 18 item 4): every command's output fits its JSON Schema in
 * schema/, with `schemaVersion` and `kind`, ISO times, stages numbered from 1, `next` as
 * `{ action, command }`, plan problems as `{ file, line, column, message, hint }`; streams (`run`,
 * `status --watch`) are JSON lines. The built CLI against a real local flag API and metrics route,
 * in the states that matter: not started, running, rolled back, drift, no data, invalid plan.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { servicePlan } from '../helpers/fake-service.js';
import { expectDocument, expectFits, expectStream, jsonLines, schemaFile, type OutputSchema } from '../helpers/json-contract.js';
import { useServiceRollout } from '../helpers/service-rollout.js';
// @ts-expect-error: a plain ES module without types (the schemas' single source).
import { outputSchemas } from '../../scripts/output-schemas.mjs';

const SECRET = 'url-secret-4f9a1c';
const env = { APP_TOKEN: 'app-secret-token', METRICS_KEY: SECRET, ROLLOUT_ACTOR: 'ci-bot' };
const CRITICAL = { errorRate: 0.2, p95: 0.2 };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const world = useServiceRollout('json', env, (service) => servicePlan(service, { stages: '[10, 50, 100]' }));
const rollout = (...args: string[]) => world.rollout(args);

/** Every stdout line is free of the secrets the plan was given. */
function expectRedacted(stdout: string): void {
  for (const secret of Object.values(env).filter((v) => v.includes('secret'))) expect(stdout).not.toContain(secret);
}

describe('the schema files', () => {
  it('are what scripts/output-schemas.mjs writes, one per command output, each a valid draft 2020-12 schema', () => {
    const schemas = outputSchemas() as Record<OutputSchema, { $schema: string }>;
    expect(Object.keys(schemas).sort()).toEqual(['advance', 'check', 'demo', 'error', 'history', 'hold', 'init', 'list', 'report', 'resume', 'rollback', 'run', 'state-migrate', 'status', 'validate']);
    for (const [name, schema] of Object.entries(schemas)) {
      expect(schemaFile(name as OutputSchema), `schema/${name}.schema.json is stale: run node scripts/output-schemas.mjs`).toEqual(schema);
      expect(schema.$schema).toBe(JSON.parse(readFileSync(new URL('../../schema/rollout-plan.schema.json', import.meta.url), 'utf8')).$schema);
    }
  });

  it('reject what the contract rules out: epoch times, 0-based stages, prose in next, a missing version', () => {
    const status = { schemaVersion: 1, kind: 'check', time: '2026-01-01T00:00:00.000Z', plan: 'e2e', verdict: 'healthy', reasons: [], inWarmup: false, readings: [], exitCode: 0 };
    expectFits('check', status);
    expect(() => expectFits('check', { ...status, time: 1767225600000 })).toThrow();
    expect(() => expectFits('check', { ...status, schemaVersion: undefined })).toThrow();
    expect(() => expectFits('check', { ...status, extra: 1 })).toThrow();
    const start = { schemaVersion: 1, kind: 'run-start', time: '2026-01-01T00:00:00.000Z', plan: 'e2e', stage: 1, stages: 3, percent: 10, resumed: true };
    expectFits('run', start);
    expect(() => expectFits('run', { ...start, stage: 0 })).toThrow();
  });
});

describe('--json output fits its schema', () => {
  it('before the first stage: validate, status, check, history, report, list, advance --dry-run', async () => {
    const valid = expectDocument('validate', (await rollout('validate', '--json')).stdout);
    expect(valid).toMatchObject({ schemaVersion: 1, kind: 'validate', valid: true, plan: 'e2e', stages: [10, 50, 100], problems: [] });
    const status = expectDocument('status', (await rollout('status', '--json')).stdout);
    expect(status).toMatchObject({ kind: 'status', stage: null, stages: 3, percent: 0, next: { action: 'start', command: 'rollout advance', alternatives: [] } });
    expect(status.time).toMatch(ISO);
    expectDocument('check', (await rollout('check', '--json')).stdout);
    expect(expectDocument('history', (await rollout('history', '--json')).stdout)).toMatchObject({ kind: 'history', plan: 'e2e', events: [] });
    expect(expectDocument('report', (await rollout('report', '--format', 'json')).stdout)).toMatchObject({ kind: 'report', stages: [] });
    expect(expectDocument('list', (await rollout('list', '--json')).stdout)).toMatchObject({ kind: 'list', rollouts: [] });
    expect(expectDocument('advance', (await rollout('advance', '--dry-run', '--json')).stdout)).toMatchObject({ action: 'start', dryRun: true, stage: 1, stages: 3 });
  });

  it('run: JSON lines, every line a document, stages from 1 as the text says, ISO times; then status, history, report, list of the finished rollout', async () => {
    const r = await rollout('run', '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = expectStream('run', r.stdout);
    expect(lines.map((l) => l.kind)).toEqual(expect.arrayContaining(['run-start', 'poll', 'event', 'run-end']));
    const polls = lines.filter((l) => l.kind === 'poll');
    expect(polls.map((p) => `${String(p.stage)}/${String(p.stages)} ${String(p.percent)}%`)).toEqual(expect.arrayContaining(['1/3 10%', '2/3 50%', '3/3 100%']));
    for (const p of polls) expect([p.time, p.enteredAt]).toEqual([expect.stringMatching(ISO), expect.stringMatching(ISO)]);
    expect(lines.at(-1)).toMatchObject({ kind: 'run-end', outcome: 'complete', exitCode: 0, percent: 100 });

    expect(expectDocument('status', (await rollout('status', '--json')).stdout)).toMatchObject({ stage: 3, stages: 3, completed: true, next: { action: 'none', command: null } });
    expect((expectDocument('history', (await rollout('history', '--json')).stdout).events as unknown[]).length).toBeGreaterThan(3);
    const report = expectDocument('report', (await rollout('report', '--json')).stdout);
    expect((report.stages as { stage: number; percent: number }[]).map((s) => `${s.stage}:${s.percent}`)).toEqual(['1:10', '2:50', '3:100']);
    expect(expectDocument('list', (await rollout('list', '--json')).stdout)).toMatchObject({ rollouts: [{ name: 'e2e', stage: 3, stages: 3, status: 'complete' }] });
  });

  it('status --watch: one compact document per refresh, one per line', async () => {
    const watch = startCli(['status', '--watch', '--json', '--interval', '1s'], { cwd: world.dir, env });
    let stdout = '';
    watch.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    await expect.poll(() => stdout.split('\n').length, { timeout: 20_000, interval: 100 }).toBeGreaterThan(2);
    watch.child.kill('SIGINT');
    await watch.result;
    const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1);
    const docs = expectStream('status', complete);
    // Ctrl-C ends the watch; the interrupt is reported as a last (error) document, exit 130.
    const refreshes = docs.filter((d) => d.kind === 'status');
    expect(refreshes.length).toBeGreaterThanOrEqual(2);
    expect(docs.slice(refreshes.length)).toEqual(docs.length > refreshes.length ? [expect.objectContaining({ kind: 'error', exitCode: 130 })] : []);
  });

  it('rolled back: run lines with the recovery; status names the rollback and what to run next', async () => {
    world.service.metrics = CRITICAL;
    const r = await rollout('run', '--json');
    expect(r.code, r.stderr).toBe(4);
    const lines = expectStream('run', r.stdout);
    expect(lines.find((l) => l.kind === 'recovery')).toMatchObject({ recovered: false });
    expect(lines.find((l) => l.kind === 'event' && l.action === 'rollback')).toMatchObject({ from: 10, to: 0, verdict: 'critical', time: expect.stringMatching(ISO) });
    const status = expectDocument('status', (await rollout('status', '--json')).stdout);
    expect(status).toMatchObject({
      rolledBack: true,
      stage: null,
      rollback: { action: 'rollback', from: 10, to: 0, at: expect.stringMatching(ISO), recovered: false },
      next: { action: 'investigate', command: 'rollout history', alternatives: [{ action: 'emergency-rollback', command: 'rollout rollback --emergency' }] },
      exitCode: 4,
    });
    expect(expectDocument('report', (await rollout('report', '--json')).stdout)).toMatchObject({ stages: [{ stage: 1, percent: 10, failed: true }] });
    expect(expectDocument('list', (await rollout('list', '--json')).stdout)).toMatchObject({ rollouts: [{ status: 'rolled back', stage: null }] });
  });

  it('drift: status says adopt or roll back, as commands; advance fails with an error document (exit 5)', async () => {
    expect((await rollout('advance', '--yes')).code).toBe(0);
    world.service.percentage = 30;
    const status = expectDocument('status', (await rollout('status', '--json')).stdout);
    expect(status).toMatchObject({
      stage: 1,
      target: { percent: 30, drift: true },
      next: { action: 'adopt', command: 'rollout advance --adopt', alternatives: [{ action: 'rollback', command: 'rollout rollback' }] },
      exitCode: 5,
    });
    const advance = await rollout('advance', '--yes', '--json');
    expect(advance.code).toBe(5);
    expect(expectDocument('error', advance.stdout)).toMatchObject({ kind: 'error', exitCode: 5, message: expect.stringContaining('drift'), problems: [] });
    expect(expectDocument('list', (await rollout('list', '--json')).stdout)).toMatchObject({ rollouts: [{ status: 'drift', targetPercent: 30 }] });
  });

  it('an unreadable target: status says so, and next is to fix it, with the emergency as the alternative', async () => {
    world.writePlan(servicePlan(world.service, { stages: '[10, 50, 100]' }).replace(`get: { url: "${world.service.url}/flag"`, 'get: { url: "http://127.0.0.1:9/flag"'));
    const status = expectDocument('status', (await rollout('status', '--json')).stdout);
    expect(status).toMatchObject({
      target: { percent: null, drift: false, error: expect.stringContaining('127.0.0.1:9') },
      next: { action: 'fix-target', command: 'rollout status', alternatives: [{ action: 'emergency-rollback', command: 'rollout rollback --emergency' }] },
    });
  });

  it('hold, resume (twice), advance, rollback and rollback --emergency', async () => {
    expect((await rollout('advance', '--yes')).code).toBe(0);
    const hold = expectDocument('hold', (await rollout('hold', '--reason', 'p95 spike', '--json')).stdout);
    expect(hold).toMatchObject({ kind: 'hold', action: 'hold', percent: 10, paused: { by: 'ci-bot', reason: 'p95 spike', at: expect.stringMatching(ISO) } });
    const paused = expectDocument('status', (await rollout('status', '--json')).stdout);
    expect(paused).toMatchObject({ paused: { at: expect.stringMatching(ISO) }, next: { action: 'resume', command: 'rollout resume' } });
    expect(expectDocument('resume', (await rollout('resume', '--json')).stdout)).toMatchObject({ action: 'resume', percent: 10, reason: null });
    expect(expectDocument('resume', (await rollout('resume', '--json')).stdout)).toMatchObject({ action: 'none', reason: 'not paused' });
    expect(expectDocument('advance', (await rollout('advance', '--yes', '--json')).stdout)).toMatchObject({ action: 'advance', from: 10, to: 50, stage: 2, exitCode: 0 });
    expect(expectDocument('rollback', (await rollout('rollback', '--yes', '--json')).stdout)).toMatchObject({ action: 'rollback', from: 50, to: 0, recovered: null });
    const emergency = expectDocument('rollback', (await rollout('rollback', '--emergency', '--json')).stdout);
    expect(emergency).toMatchObject({ action: 'emergency-rollback', to: 0, ok: true, readBack: 0 });
  });

  it('rollback --emergency that cannot set 0%: one document saying so and why, exit 6', async () => {
    expect((await rollout('advance', '--yes')).code).toBe(0);
    world.service.refusePut = () => true;
    const r = await rollout('rollback', '--emergency', '--json');
    expect(r.code).toBe(6);
    expect(expectDocument('rollback', r.stdout)).toMatchObject({ action: 'emergency-rollback', from: 10, ok: false, failure: 'the target still reads 10%', readBack: 10 });
    expect(r.stderr).toMatch(/^error: emergency rollback of e2e could not set the target to 0%/m);
  });

  it('no data, with a ${VAR} secret in the source URL: readings say no data, the secret never shows', async () => {
    // The secret is in the path, which reasons name (a query string is never shown); the service answers 404 there.
    world.writePlan(servicePlan(world.service, { stages: '[10, 50, 100]' }).replace('/metrics.json"', '/${METRICS_KEY}/metrics.json"'));
    const check = await rollout('check', '--json');
    const doc = expectDocument('check', check.stdout);
    expect(doc.readings).toEqual([expect.objectContaining({ status: 'nodata', value: null }), expect.objectContaining({ status: 'nodata', value: null })]);
    expect(check.stdout).toContain('/***/metrics.json');
    const status = await rollout('status', '--json');
    expect(expectDocument('status', status.stdout)).toMatchObject({ readings: [{ status: 'nodata' }, { status: 'nodata' }] });
    const run = await rollout('run', '--json', '--timeout', '3s');
    expectStream('run', run.stdout);
    for (const out of [check.stdout, status.stdout, run.stdout, (await rollout('history', '--json')).stdout]) expectRedacted(out);
    expect(`${check.stdout}${status.stdout}${run.stdout}`).not.toContain(SECRET);
  });

  it('an invalid plan: validate lists each problem as { file, line, column, message, hint }; other commands print an error document with them', async () => {
    world.writePlan(servicePlan(world.service).replace('interval: 1s', 'interval: soon').replace('failureLimit: 2', 'failureLimit: "${APP_TOKEN}"'));
    const r = await rollout('validate', '--json');
    expect(r.code).toBe(2);
    const doc = expectDocument('validate', r.stdout);
    expect(doc).toMatchObject({ valid: false, plan: null, exitCode: 2 });
    expect(doc.problems).toEqual([
      expect.objectContaining({ file: './rollout.yaml', line: 4, column: 23, message: expect.stringContaining('analysis.interval') }),
      expect.objectContaining({ file: './rollout.yaml', line: 4, column: expect.any(Number), message: expect.stringMatching(/failureLimit .*"\*\*\*"/) }),
    ]);
    expectRedacted(r.stdout);
    const status = await rollout('status', '--json');
    expect(status.code).toBe(2);
    expect(expectDocument('error', status.stdout)).toMatchObject({ exitCode: 2, problems: [{ file: './rollout.yaml', line: 4 }, { file: './rollout.yaml' }] });
  });

  it('validate: an unset ${VAR} is a warning located like a problem', async () => {
    const r = await world.rollout(['validate', '--json'], { APP_TOKEN: undefined });
    expect(r.code, r.stderr).toBe(0);
    expect(expectDocument('validate', r.stdout)).toMatchObject({ valid: true, warnings: [{ file: './rollout.yaml', line: 6, message: expect.stringContaining('APP_TOKEN') }] });
  });

  it('state migrate and init', async () => {
    expect((await rollout('advance', '--yes')).code).toBe(0);
    const migrate = expectDocument('state-migrate', (await rollout('state', 'migrate', '--to', join(world.dir, 'elsewhere'), '--json')).stdout);
    expect(migrate).toMatchObject({ copied: true, state: { stage: 1, stages: 3, percent: 10 } });
    const init = await rollout('init', '--name', 'x', '--target', 'env-file', '--key', 'X_PERCENT', '--source', 'none', '--output', 'x.yaml', '--json');
    expect(init.code, init.stderr).toBe(0);
    expectDocument('init', init.stdout);
    expect(jsonLines(init.stdout)).toHaveLength(1);
  });
});

describe('--json says where the rollout stands: `stage` (from 1) in every document that places it', () => {
  it('advance held at stage 1, hold, resume, rollback to a stage and to 0, and history events', async () => {
    world.writePlan(servicePlan(world.service, { stages: '[10, 50, 100]', bake: '1h' }));
    expect((await rollout('advance', '--yes')).code).toBe(0);
    const held = await rollout('advance', '--yes', '--json');
    expect(held.code).toBe(3);
    expect(expectDocument('advance', held.stdout)).toMatchObject({ action: 'hold', from: 10, to: 10, stage: 1, stages: 3 });
    expect(expectDocument('hold', (await rollout('hold', '--reason', 'look', '--json')).stdout)).toMatchObject({ percent: 10, stage: 1 });
    expect(expectDocument('resume', (await rollout('resume', '--json')).stdout)).toMatchObject({ action: 'resume', stage: 1 });
    expect(expectDocument('resume', (await rollout('resume', '--json')).stdout)).toMatchObject({ action: 'none', stage: 1 });
    expect((await rollout('advance', '--yes', '--force', '--reason', 'test')).code).toBe(0);
    expect(expectDocument('rollback', (await rollout('rollback', '--to', '10', '--yes', '--json')).stdout)).toMatchObject({ from: 50, to: 10, stage: 1 });
    expect(expectDocument('rollback', (await rollout('rollback', '--yes', '--json')).stdout)).toMatchObject({ from: 10, to: 0, stage: null });
    const events = expectDocument('history', (await rollout('history', '--json')).stdout).events as { action: string; stage: number | null }[];
    expect(events.map((e) => `${e.action}:${String(e.stage)}`)).toEqual(['start:1', 'hold:1', 'resume:1', 'force:2', 'rollback:1', 'rollback:null']);
    expect(expectDocument('list', (await rollout('list', '--json')).stdout)).toMatchObject({ rollouts: [{ status: 'rolled back', stage: null, stages: 3 }] });
  });

  it('status under a plan change: the stage and stages state records, beside planChange', async () => {
    expect((await rollout('advance', '--yes')).code).toBe(0);
    expect((await rollout('advance', '--yes')).code).toBe(0);
    world.writePlan(servicePlan(world.service, { stages: '[10, 25, 50, 75, 100]' }));
    const status = expectDocument('status', (await rollout('status', '--json')).stdout);
    expect(status).toMatchObject({ planChange: expect.stringContaining('[10, 50, 100]'), percent: 50, stage: 2, stages: 3 });
  });

  it('run stopped by SIGTERM: every line fits, and the stream ends with run-end (interrupted, exit 130) at its stage, no error document', async () => {
    world.writePlan(servicePlan(world.service, { stages: '[10, 50, 100]', bake: '10m' }));
    const run = startCli(['run', '--json'], { cwd: world.dir, env });
    let stdout = '';
    run.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    await expect.poll(() => stdout.includes('"kind":"poll"'), { timeout: 20_000, interval: 100 }).toBe(true);
    run.child.kill('SIGTERM');
    const r = await run.result;
    expect(r.code).toBe(130);
    const lines = expectStream('run', r.stdout);
    expect(lines.filter((l) => l.kind === 'error')).toEqual([]);
    expect(lines.find((l) => l.kind === 'event')).toMatchObject({ action: 'start', to: 10, stage: 1 });
    expect(lines.at(-1)).toMatchObject({ kind: 'run-end', outcome: 'interrupted', exitCode: 130, percent: 10, stage: 1 });
  });
});

describe('report: --json is --format json, never beside another format', () => {
  it('--format pdf --json and --format junit --json exit 2 with an error document; --format json --json is the report', async () => {
    const pdf = await rollout('report', '--format', 'pdf', '--json');
    expect(pdf.code).toBe(2);
    expect(expectDocument('error', pdf.stdout)).toMatchObject({ message: 'unknown report format "pdf"', exitCode: 2 });
    const junit = await rollout('report', '--format', 'junit', '--json');
    expect(junit.code).toBe(2);
    expect(expectDocument('error', junit.stdout)).toMatchObject({ message: '--json conflicts with --format junit', hint: expect.stringContaining('drop --json'), exitCode: 2 });
    expect((await rollout('report', '--format', 'pdf')).code).toBe(2);
    expect(expectDocument('report', (await rollout('report', '--format', 'json', '--json')).stdout)).toMatchObject({ kind: 'report' });
    const xml = await rollout('report', '--format', 'junit');
    expect([xml.code, xml.stdout.startsWith('<?xml')]).toEqual([0, true]);
  });
});
