/**
 * The README's set-up and "Five minutes with rollout", run as written in a fresh copy of the
 * checkout: every command must exit as its comment says (0 where it names no code).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandsOf, readmeSection, REPO, shellBlocks, type ReadmeCommand } from './readme.js';

const sandbox = mkdtempSync(join(tmpdir(), 'rollout-readme-'));
afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

/** A fresh clone's files (tracked and new, as in this working tree), with this checkout's node_modules. */
function freshCheckout(): string {
  const checkout = join(sandbox, 'checkout');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file !== '' && existsSync(join(REPO, file)));
  for (const file of files) {
    mkdirSync(dirname(join(checkout, file)), { recursive: true });
    cpSync(join(REPO, file), join(checkout, file));
  }
  symlinkSync(join(REPO, 'node_modules'), join(checkout, 'node_modules'));
  return checkout;
}

/**
 * `npm install` would fetch the dependencies (no network here: they are linked in) and then run
 * the `prepare` script, which builds dist/; the test runs that part. `npm test` is the whole
 * suite, this test among it, so it is not run from here.
 */
function offline(command: ReadmeCommand): string {
  if (command.command === 'npm test') return 'true';
  return command.command
    .split(' && ')
    .map((part) => (part === 'npm install' ? 'npm run prepare --silent' : part))
    .join(' && ');
}

/** Runs the commands in one bash, in order (a `cd` carries on); each one's exit code and output. */
function runAsWritten(commands: ReadmeCommand[], cwd: string): { code: number; output: string }[] {
  const logs = join(sandbox, 'logs');
  mkdirSync(logs, { recursive: true });
  const script = commands.map((command, i) => `{ ${offline(command)}\n} >'${logs}/${i}' 2>&1 </dev/null; echo $? >'${logs}/${i}.code'`).join('\n');
  const home = join(sandbox, 'home');
  mkdirSync(home, { recursive: true });
  const run = spawnSync('bash', ['-c', script], {
    cwd,
    // A new HOME and npm cache (npx starts from nothing), and npm offline: no registry is asked.
    env: { PATH: process.env.PATH, HOME: home, CI: 'true', NO_COLOR: '1', npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_cache: join(home, '.npm') },
    encoding: 'utf8',
    timeout: 400_000,
  });
  expect(run.error).toBeUndefined();
  return commands.map((_, i) => ({
    code: Number(readFileSync(join(logs, `${i}.code`), 'utf8')),
    output: readFileSync(join(logs, String(i)), 'utf8'),
  }));
}

describe('README walkthrough', () => {
  it('runs as written after the set-up, each command exiting as the README says', { timeout: 420_000 }, () => {
    const [setUp] = shellBlocks(readmeSection('Set up'));
    const [walkthrough] = shellBlocks(readmeSection('Five minutes with rollout'));
    const commands = [...commandsOf(setUp!), ...commandsOf(walkthrough!)];
    // The set-up installs (and the walkthrough's tool is reachable) before anything else runs.
    expect(commands[0]!.command.startsWith('npm install')).toBe(true);
    expect(commands.length).toBeGreaterThan(8);

    const checkout = freshCheckout();
    rmSync(join(checkout, 'dist'), { recursive: true, force: true });
    const results = runAsWritten(commands, checkout);

    const outcome = commands.map((command, i) => ({ command: command.command, code: results[i]!.code, output: results[i]!.output }));
    for (const [i, command] of commands.entries()) {
      expect(outcome[i], `${command.command}\n${results[i]!.output}`).toMatchObject({ command: command.command, code: command.expectedExit });
    }
    // What the comments promise beyond the exit codes: 0 % at the end, and the events in history.
    const tried = join(checkout, 'try-rollout');
    expect(readFileSync(join(tried, '.env'), 'utf8')).toBe('APP_ROLLOUT_PERCENTAGE=0\n');
    const history = results.at(-1)!.output;
    for (const event of ['start', 'advance', 'complete', 'emergency-rollback']) expect(history).toContain(event);
  });
});
