import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';

/** Headings of the help's sections (lines like "Rolling out:"), in order. */
function headings(help: string): string[] {
  return [...help.matchAll(/^(\S[^\n]*):$/gm)].map((m) => m[1] ?? '');
}

/** The lines of one section of a help text, up to the next blank line. */
function section(help: string, heading: string): string {
  return new RegExp(`\\n${heading}:\\n([\\s\\S]*?)(\\n\\n|$)`).exec(help)?.[1] ?? '';
}

/** Command names listed in a help text, in every command section (without commander's own `help`). */
function listedCommands(help: string): string[] {
  const sections = headings(help).filter((h) => !['Options', 'Arguments', 'Exit codes', 'Environment', 'Example'].includes(h));
  return sections
    .flatMap((h) => section(help, h).split('\n'))
    .map((line) => /^ {2}([\w-]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}

describe('--help', () => {
  it('every command listed by `rollout --help` shows an example (subcommands included)', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    const pending = listedCommands(top.stdout).map((name) => [name]);
    expect(pending.map((p) => p[0])).toEqual(expect.arrayContaining(['validate', 'run', 'init', 'demo', 'abort', 'completion']));
    const checked: string[] = [];
    while (pending.length > 0) {
      const path = pending.shift() ?? [];
      const help = await runCli([...path, '--help']);
      expect(help.code, path.join(' ')).toBe(0);
      expect(help.stdout, `rollout ${path.join(' ')} --help`).not.toContain('(default: false)');
      const children = listedCommands(help.stdout);
      if (children.length > 0) {
        pending.push(...children.map((child) => [...path, child]));
        continue;
      }
      expect(help.stdout, `rollout ${path.join(' ')} --help`).toMatch(new RegExp(`\\nExample:\\n {2}rollout ${path.join(' ')}\\b`));
      checked.push(path.join(' '));
    }
    expect(checked.length).toBeGreaterThanOrEqual(14);
  });

  it('groups the commands, in order, with none left ungrouped', async () => {
    const { stdout } = await runCli(['--help']);
    expect(headings(stdout)).toEqual(['Options', 'Getting started', 'Plans', 'Rolling out', 'Inspecting', 'Rolling back and emergencies', 'Setup', 'Exit codes', 'Environment']);
    const group = (heading: string) => listedCommands(`\n${heading}:\n${section(stdout, heading)}`);
    expect(group('Getting started')).toEqual(['init', 'demo']);
    expect(group('Plans')).toEqual(['validate', 'schema']);
    expect(group('Rolling out')).toEqual(['advance', 'hold', 'resume', 'run']);
    expect(group('Inspecting')).toEqual(['check', 'status', 'list', 'history', 'report']);
    expect(group('Rolling back and emergencies')).toEqual(['rollback', 'abort']);
    expect(group('Setup')).toEqual(['state', 'completion']);
    expect(stdout).toMatch(/^ {2}advance\|promote \[options\] \[plan\]/m);
    expect(stdout).toMatch(/^ {2}hold\|pause \[options\] \[plan\]/m);
  });

  it('lists every exit code of SPEC §4 with its meaning, and the docs', async () => {
    const { stdout } = await runCli(['--help']);
    const codes = section(stdout, 'Exit codes');
    for (const [code, meaning] of [
      [0, /success/],
      [1, /unexpected/],
      [2, /invalid usage or plan/],
      [3, /held.*"no" at a prompt/],
      [4, /critical/],
      [5, /lock.*drift/],
      [6, /the target .*failed/],
      [130, /interrupted \(Ctrl-C, SIGTERM, SIGHUP, pipe closed\)/],
    ] as const) {
      expect(codes, `exit ${code}`).toMatch(new RegExp(`^ {2}${code} +${meaning.source}`, 'm'));
    }
    const docs = /^Docs: (\S+)$/m.exec(stdout)?.[1] ?? '';
    expect(docs).toMatch(/README\.md$/);
    expect(existsSync(docs)).toBe(true);
  });

  it('lists every environment variable the code reads that a user sets', async () => {
    const { stdout } = await runCli(['--help']);
    const listed = section(stdout, 'Environment');
    // Every `env.NAME` the sources and bin/rollout.js read, except those rollout sets for others or that only name the user.
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    const read = new Set([...sources(join(__dirname, '../../src')), join(__dirname, '../../bin/rollout.js')].flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1] ?? '')));
    const notForUsers = ['ROLLOUT_PERCENTAGE', 'HOME', 'NODE_OPTIONS', 'USER', 'USERNAME', 'LOGNAME', 'TERM', 'FORCE_COLOR', 'GITHUB_ACTOR', 'GITHUB_JOB', 'GITHUB_RUN_ID'];
    const expected = [...read].filter((name) => !notForUsers.includes(name));
    expect(expected).toEqual(expect.arrayContaining(['ROLLOUT_STATE_URL', 'ROLLOUT_ACTOR', 'ROLLOUT_DEBUG', 'NO_COLOR', 'CI', 'GITHUB_ACTIONS', 'ROLLOUT_CODE_CACHE', 'XDG_CACHE_HOME']));
    for (const name of expected) expect(listed, name).toMatch(new RegExp(`^ {2}${name}\\b`, 'm'));
  });
});

describe('unknown commands', () => {
  it.each([
    ['abrot', /Did you mean abort\?/],
    ['promte', /Did you mean promote\?/],
    ['statsu', /Did you mean status\?/],
  ])('`rollout %s` suggests the command meant', async (typed, suggestion) => {
    const r = await runCli([typed]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`unknown command '${typed}'`));
    expect(r.stderr).toMatch(suggestion);
  });

  it('`abort` is a command now, not "did you mean report"', async () => {
    const r = await runCli(['abort', 'no-such-plan.yaml']);
    expect(r.stderr).toMatch(/no-such-plan\.yaml/);
    expect(r.stderr).not.toMatch(/unknown command|Did you mean/);
  });

  it.each([
    ['undo', /`rollout rollback` lowers exposure/],
    ['retry', /`rollout advance`/],
    ['get', /`rollout status`/],
  ])("Argo's `%s`, which has no counterpart, says what to run instead", async (verb, instead) => {
    const r = await runCli([verb]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(instead);
    expect(r.stderr).not.toMatch(/Did you mean/);
  });
});

describe('shell completion', () => {
  it.each([
    ['bash', /complete -F __rollout_complete rollout/],
    ['zsh', /^#compdef rollout/m],
    ['fish', /^complete -c rollout /m],
  ])('`rollout completion %s` prints a script for that shell', async (shell, marker) => {
    const r = await runCli(['completion', shell]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(marker);
    expect(r.stdout).toContain('rollout complete --');
  });

  it('refuses a shell it has no script for (exit 2, naming the choices)', async () => {
    const r = await runCli(['completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bash.*fish|fish.*bash/);
  });

  /** Sources the bash script in a bash subprocess and returns what Tab offers after `line`. */
  async function completeInBash(line: string): Promise<string[]> {
    const bin = mkdtempSync(join(tmpdir(), 'rollout-completion-'));
    writeFileSync(join(bin, 'rollout'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, 'rollout'), 0o755);
    const words = line.split(' ');
    const script = [
      'source <(rollout completion bash)',
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
      `COMP_CWORD=${words.length - 1}`,
      `COMP_LINE='${line}'`,
      `COMP_POINT=${line.length}`,
      '__rollout_complete 2>/dev/null',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    return new Promise((resolve, reject) =>
      execFile('bash', ['-c', script], { env: { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME }, timeout: 20_000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout.split('\n').filter(Boolean)),
      ),
    );
  }

  it('the bash script, sourced in bash, completes subcommands, aliases and options', async () => {
    expect(await completeInBash('rollout ad')).toEqual(['advance']);
    expect(await completeInBash('rollout pro')).toEqual(['promote']);
    expect(await completeInBash('rollout ab')).toEqual(['abort']);
    const all = await completeInBash('rollout ');
    expect(all).toEqual(expect.arrayContaining(['validate', 'status', 'advance', 'rollback', 'run', 'completion', 'pause']));
    expect(all).not.toContain('complete');
    expect(await completeInBash('rollout advance --dr')).toEqual(['--dry-run']);
    expect(await completeInBash('rollout rollback --emer')).toEqual(['--emergency']);
    // init's options come from the source and target registries, loaded for it alone.
    expect(await completeInBash('rollout init --na')).toEqual(['--name']);
  }, 60_000);
});
