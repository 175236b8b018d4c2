/**
 * Signals and pipes, end to end (issue 18 item 6): Ctrl-C at a real terminal's confirmation
 * prompt, answering "no", output piped into `head`, and SIGINT/SIGTERM/SIGHUP while a command
 * waits on a slow flag API. Every case checks that target and state still agree afterwards.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RolloutState } from '../../src/state/types.js';
import { BIN, runCli, startCli, type CliResult } from '../helpers/cli.js';
import { servicePlan, startFakeService, type FakeService } from '../helpers/fake-service.js';
import { openTerminal, type Terminal } from '../helpers/tmux.js';

const env = { APP_TOKEN: 'signals-token', ROLLOUT_ACTOR: 'pat' };
let service: FakeService;
let dir: string;
let terminal: Terminal | undefined;

const stateFile = () => join(dir, '.rollout', 'e2e.json');
const storedPercent = (): number => (existsSync(stateFile()) ? (JSON.parse(readFileSync(stateFile(), 'utf8')) as RolloutState).percent : 0);
const flagReads = () => service.server.requests.filter((r) => r.method === 'GET' && r.url === '/flag').length;
const lockLeft = () => existsSync(join(dir, '.rollout', 'e2e.lock'));

/** Resolves once `condition` holds, polling every 10 ms. */
async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs a shell command line in `dir` (a real pipeline), as a CI job would. */
function shell(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', line], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', NO_COLOR: '1', ...env }, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr }),
    );
  });
}

/** Advances to 10 %, then sends SIGINT to a second `advance` while its PUT of 25 % is in flight. */
async function interruptSecondApply(): Promise<CliResult> {
  await runCli(['advance', '--yes'], { cwd: dir, env });
  const release = service.holdNextPut();
  const advance = startCli(['advance', '--yes'], { cwd: dir, env });
  await until(() => service.server.requests.filter((r) => r.method === 'PUT').length === 2, 'the apply of 25 %');
  advance.child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 300));
  release();
  return advance.result;
}

beforeEach(async () => {
  service = await startFakeService();
  dir = mkdtempSync(join(tmpdir(), 'rollout-signals-'));
  writeFileSync(join(dir, 'rollout.yaml'), servicePlan(service));
});
afterEach(async () => {
  terminal?.close();
  terminal = undefined;
  await service.close();
});

describe('at the confirmation prompt, in a real terminal', () => {
  it('Ctrl-C exits 130 with one quiet line, and changes nothing', async () => {
    terminal = openTerminal(`node ${BIN} advance; echo EXIT=$?`, { cwd: dir, env: { ...env, NO_COLOR: '1' } });
    await terminal.waitFor(/Advance e2e: 0% → 10% \(stage 1\/5\)\?/);
    terminal.send('C-c');
    const screen = await terminal.waitFor(/EXIT=\d+/);
    expect(screen).toMatch(/cancelled; nothing changed\s*\nEXIT=130/);
    expect(screen).not.toMatch(/bug in rollout|error:|hint:|at .*\.js:\d+/);
    expect(service.puts).toEqual([]);
    expect(existsSync(stateFile())).toBe(false);
    expect(lockLeft()).toBe(false);
  });

  it('Ctrl-C at a rollback prompt is the same cancellation', async () => {
    await runCli(['advance', '--yes'], { cwd: dir, env });
    terminal = openTerminal(`node ${BIN} rollback; echo EXIT=$?`, { cwd: dir, env: { ...env, NO_COLOR: '1' } });
    await terminal.waitFor(/Roll e2e back: 10% → 0%\?/);
    terminal.send('C-c');
    expect(await terminal.waitFor(/EXIT=\d+/)).toMatch(/cancelled; nothing changed\s*\nEXIT=130/);
    expect(service.puts).toEqual([10]);
    expect(storedPercent()).toBe(10);
  });

  it('SIGTERM while the prompt is open closes it: exit 130, nothing changed', async () => {
    // The inner bash writes its own pid, then becomes the CLI: the pid to signal.
    terminal = openTerminal(`bash -c 'echo $$ > cli.pid; exec node ${BIN} advance'; echo EXIT=$?`, { cwd: dir, env: { ...env, NO_COLOR: '1' } });
    await terminal.waitFor(/Advance e2e: 0% → 10%/);
    process.kill(Number(readFileSync(join(dir, 'cli.pid'), 'utf8')), 'SIGTERM');
    const screen = await terminal.waitFor(/EXIT=\d+/);
    expect(screen).toMatch(/cancelled; nothing changed[\s\S]*EXIT=130/);
    expect(service.puts).toEqual([]);
  });

  it('answering "no" is a decline: exit 3 (held where it is), says nothing changed, no error', async () => {
    terminal = openTerminal(`node ${BIN} advance; echo EXIT=$?`, { cwd: dir, env: { ...env, NO_COLOR: '1' } });
    await terminal.waitFor(/Advance e2e: 0% → 10%/);
    terminal.send('n', 'Enter');
    const screen = await terminal.waitFor(/EXIT=\d+/);
    expect(screen).toMatch(/not confirmed; nothing changed\s*\nEXIT=3/);
    expect(screen).not.toMatch(/error:|hint:/);
    expect(service.puts).toEqual([]);
    expect(lockLeft()).toBe(false);
  });
});

describe('a stop signal while `advance` waits on a slow flag API', () => {
  const where = /the target is at (\d+)% \(stage \d\/5\), as state records/;

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} during the read of the target: exit 130, nothing changed, and it says where things stand`, async () => {
      await runCli(['advance', '--yes'], { cwd: dir, env });
      const readsBefore = flagReads();
      const release = service.holdNextFlagRead();
      const advance = startCli(['advance', '--yes'], { cwd: dir, env });
      await until(() => flagReads() > readsBefore, 'the read of the target');
      advance.child.kill(signal);
      const r = await advance.result;
      release();
      expect(r.code).toBe(130);
      expect(r.stderr).toContain(`interrupted by ${signal}; nothing changed: the target is where it was, at 10% (stage 1/5) as state records`);
      expect(r.stderr).toMatch(/Continue with `rollout advance`, or roll back with `rollout rollback`/);
      expect(r.stderr).not.toMatch(/error:|aborted/);
      expect(service.puts).toEqual([10]);
      expect(storedPercent()).toBe(service.percentage);
      expect(lockLeft()).toBe(false);
    });
  }

  it('SIGINT while `rollback` reads the target: exit 130, nothing changed, and how to finish it', async () => {
    await runCli(['advance', '--yes'], { cwd: dir, env });
    const release = service.holdNextFlagRead();
    const readsBefore = flagReads();
    const rollback = startCli(['rollback', '--yes'], { cwd: dir, env });
    await until(() => flagReads() > readsBefore, 'the read of the target');
    rollback.child.kill('SIGINT');
    const r = await rollback.result;
    release();
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted by SIGINT; nothing changed: the target is where it was, at 10% \(stage 1\/5\) as state records\. Run `rollout rollback` again to finish/);
    expect(service.percentage).toBe(10);
    expect(storedPercent()).toBe(10);
  });

  // Read-only commands read on after a failed read (it is shown as unreadable); cut short, they are interrupted.
  it.each([
    ['status', 'holdNextFlagRead', '/flag'],
    ['check', 'holdNextMetricsRead', '/metrics.json'],
  ] as const)('SIGINT while `%s` waits on a slow read: exit 130, not a verdict on reads it never got', async (command, hold, route) => {
    const release = service[hold]();
    const running = startCli([command], { cwd: dir, env });
    await until(() => service.server.requests.some((r) => r.url === route), `the read of ${route}`);
    // Every other read answered meanwhile: only the held one is cut short.
    await new Promise((r) => setTimeout(r, 500));
    running.child.kill('SIGINT');
    const r = await running.result;
    release();
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^interrupted by SIGINT$/m);
  });

  it('SIGINT mid-apply: the write in flight finishes and is recorded, then exit 130 naming the new percentage', async () => {
    const r = await interruptSecondApply();
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted by SIGINT; advance finished its change first; state and target agree: the target is at 25% \(stage 2\/5\), as state records/);
    expect(Number(where.exec(r.stderr)?.[1])).toBe(service.percentage);
    expect(service.percentage).toBe(25);
    expect(storedPercent()).toBe(25);
    expect(lockLeft()).toBe(false);
  });
});

describe('output into a closed pipe', () => {
  it('`rollout run | head -2` stops as an interrupt would: no stack trace, lock released, state and target agree', async () => {
    writeFileSync(join(dir, 'rollout.yaml'), servicePlan(service, { bake: '2s' }));
    const r = await shell(`node ${BIN} run | head -2; echo "CLI_EXIT=\${PIPESTATUS[0]}" >&2`);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/CLI_EXIT=130/);
    expect(r.stderr).not.toMatch(/EPIPE|Error|at .*:\d+:\d+/);
    // Where it stopped, and how to go on, on stderr: stdout is gone.
    expect(r.stderr).toMatch(/^run stopped: interrupted at \d+%; state and target agree: the target is at \d+%.*Continue with `rollout run`, or roll back with `rollout rollback`$/m);
    expect(lockLeft()).toBe(false);
    expect(service.percentage).toBeGreaterThan(0);
    expect(storedPercent()).toBe(service.percentage);
    // Not left behind: the stopped run's rollout carries on from where it is.
    expect((await runCli(['run'], { cwd: dir, env: { ...env }, timeoutMs: 60_000 })).code).toBe(0);
    expect(service.percentage).toBe(100);
  }, 60_000);

  // The reader is gone before the CLI writes its first byte, so every command meets EPIPE.
  for (const args of [['--version'], ['-V'], ['--help'], ['advance', '--help'], ['schema'], ['validate'], ['status'], ['status', '--json'], ['check'], ['history'], ['report'], ['list']]) {
    it(`\`rollout ${args.join(' ')}\` into a closed pipe ends quietly`, async () => {
      await runCli(['advance', '--yes'], { cwd: dir, env });
      const r = await shell(`(sleep 0.3; exec node ${BIN} ${args.join(' ')}) | true; echo "CLI_EXIT=\${PIPESTATUS[0]}" >&2`);
      expect(r.stderr).toMatch(/^CLI_EXIT=0\n$/);
    });
  }
});

it('a change that fails while a signal arrives keeps its own error and exit code (6), with the target put back', async () => {
  service.refusePut = (percent) => percent === 25;
  const r = await interruptSecondApply();
  expect(r.code).toBe(6);
  expect(r.stderr).toMatch(/applying 25% failed: .*the target was put back to 10%/);
  expect(service.percentage).toBe(10);
  expect(storedPercent()).toBe(10);
});
