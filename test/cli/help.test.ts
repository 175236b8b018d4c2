import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** The command names listed under "Commands:" in a help text (without commander's own `help`). */
function listedCommands(help: string): string[] {
  const section = /\nCommands:\n([\s\S]*?)(\n\n|$)/.exec(help)?.[1] ?? '';
  return section
    .split('\n')
    .map((line) => /^ {2}(\S+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}

describe('--help', () => {
  it('every command listed by `rollout --help` shows an example (subcommands included)', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    const pending = listedCommands(top.stdout).map((name) => [name]);
    expect(pending.map((p) => p[0])).toEqual(expect.arrayContaining(['validate', 'run', 'init', 'demo']));
    const checked: string[] = [];
    while (pending.length > 0) {
      const path = pending.shift() ?? [];
      const help = await runCli([...path, '--help']);
      expect(help.code, path.join(' ')).toBe(0);
      const children = listedCommands(help.stdout);
      if (children.length > 0) {
        pending.push(...children.map((child) => [...path, child]));
        continue;
      }
      expect(help.stdout, `rollout ${path.join(' ')} --help`).toMatch(new RegExp(`\\nExample:\\n {2}rollout ${path.join(' ')}\\b`));
      checked.push(path.join(' '));
    }
    expect(checked.length).toBeGreaterThanOrEqual(12);
  });
});
