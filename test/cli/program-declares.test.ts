/**
 * The commander program has only the command a command line runs (declaring the others cost every
 * start about 1 ms, bench/README.md), and every command whenever anything else is asked: an alias,
 * a mistyped command (commander suggests from the declared ones), help.
 */
import { describe, expect, it } from 'vitest';
import { buildProgram, commandNamed, runProgram } from '../../src/cli/program.js';
import { runCli } from '../helpers/cli.js';

const EVERY_COMMAND = ['validate', 'schema', 'check', 'status', 'advance', 'hold', 'resume', 'rollback', 'abort', 'run', 'list', 'history', 'state', 'report', 'init', 'demo', 'completion'];

const declared = (only?: string) => buildProgram('0.0.0', async () => undefined, true, only).commands.map((command) => command.name());

describe('the commands declared', () => {
  it('are every command without a name, for an alias and for a word that names none', () => {
    expect(declared()).toEqual(EVERY_COMMAND);
    for (const word of ['promote', 'pause', 'valdate', 'help', 'complete', 'completion', 'toString', '__proto__']) expect(declared(word), word).toEqual(EVERY_COMMAND);
  });

  it('are the named command alone, whose help is the same as among every command', () => {
    const every = buildProgram('0.0.0', async () => undefined).commands;
    for (const name of EVERY_COMMAND.filter((c) => c !== 'completion')) {
      const alone = buildProgram('0.0.0', async () => undefined, true, name).commands;
      expect(alone.map((command) => command.name()), name).toEqual([name]);
      const help = (commands: typeof every) => commands.find((command) => command.name() === name)?.helpInformation();
      expect(help(alone), name).toBe(help(every));
    }
  });
});

describe('the command a command line names', () => {
  it('is its first word, after --utc alone', () => {
    expect(commandNamed(['status'])).toBe('status');
    expect(commandNamed(['--utc', 'history', '--json'])).toBe('history');
    expect(commandNamed(['status', '--help'])).toBe('status');
  });

  it('is none when anything else comes first: commander may then never hand the line to that command', () => {
    for (const argv of [[], ['--help', 'status'], ['-h', '--', 'status'], ['--utc', '--', 'validate', 'x'], ['--json', 'status', '--help'], ['--bogus', '-h', 'validate'], ['--utc=1', 'status'], ['--', '-statu', 'status'], ['-V', 'status']]) {
      expect(commandNamed(argv), argv.join(' ')).toBeUndefined();
    }
  });
});

describe('a command line', () => {
  const world = { env: {}, signal: new AbortController().signal, version: '0.0.0' };

  it('with a mistyped command still gets a suggestion from every command', async () => {
    await expect(runProgram(['rollbak', '--emergency'], world)).rejects.toThrow(/Did you mean rollback\?/);
    await expect(runProgram(['promte'], world)).rejects.toThrow(/Did you mean promote\?/);
  });

  it('with an option the command lacks is refused as before, naming the command\'s own option', async () => {
    await expect(runProgram(['validate', '--strict-envs'], world)).rejects.toThrow(/unknown option '--strict-envs'[\s\S]*Did you mean --strict-env\?/);
  });

  it('asking for help before the command, or after an option the program lacks, gets the help of every command', async () => {
    const help = await runCli(['--help']);
    for (const argv of [['--help', 'status'], ['-h', '--', 'status'], ['--json', 'status', '--help'], ['--bogus', '-h', 'validate']]) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stdout, argv.join(' ')).toBe(help.stdout);
    }
  }, 60_000);

  it('with an unknown command after `--` still gets suggestions from every command', async () => {
    const r = await runCli(['--', '-statu', 'status']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('(Did you mean one of state, status?)');
  }, 30_000);
});
