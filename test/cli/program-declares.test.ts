/**
 * The commander program has only the command a command line runs (declaring the others cost every
 * start about 1 ms, bench/README.md), and every command whenever anything else is asked: an alias,
 * a mistyped command (commander suggests from the declared ones), help.
 */
import { describe, expect, it } from 'vitest';
import { buildProgram, runProgram } from '../../src/cli/program.js';

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

describe('a command line', () => {
  const world = { env: {}, signal: new AbortController().signal, version: '0.0.0' };

  it('with a mistyped command still gets a suggestion from every command', async () => {
    await expect(runProgram(['rollbak', '--emergency'], world)).rejects.toThrow(/Did you mean rollback\?/);
    await expect(runProgram(['promte'], world)).rejects.toThrow(/Did you mean promote\?/);
  });

  it('with an option the command lacks is refused as before, naming the command\'s own option', async () => {
    await expect(runProgram(['validate', '--strict-envs'], world)).rejects.toThrow(/unknown option '--strict-envs'[\s\S]*Did you mean --strict-env\?/);
  });
});
