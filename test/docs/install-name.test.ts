/**
 * The npm name `rollout` belongs to an unrelated library: docs and CI examples install this
 * package by its own name, and `npx rollout` appears only where it runs from this checkout.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { README, readmeSection, REPO } from './readme.js';

const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; bin: Record<string, string> };
const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { name: string; packages: Record<string, { name?: string }> };

/** Docs and CI examples: every markdown and YAML file outside code, tests and dependencies. */
function docFiles(dir = ''): string[] {
  const skip = new Set(['node_modules', 'dist', 'test', 'src', '.git', 'reports', 'coverage', '.stryker-tmp']);
  return readdirSync(join(REPO, dir), { withFileTypes: true })
    .filter((entry) => !skip.has(entry.name))
    .flatMap((entry) => {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) return docFiles(path);
      return /\.(md|ya?ml)$/.test(entry.name) ? [path] : [];
    })
    .sort();
}

/** Installs or runs the registry's `rollout` (not `rollout-cli` or another name that starts the same). */
const OTHER_PACKAGE = /\bnpm (?:install|i|add)\b[^\n#;&|]*?(?:--global|-g)\b[^\n#;&|]*?(?<![\w@/-])rollout(?![\w-])|\bnpx (?:--yes |-y )?rollout(?![\w-])/g;

describe('install name', () => {
  it('publishes under a name of its own and keeps the command `rollout`', () => {
    expect(manifest.name).not.toBe('rollout');
    expect(manifest.bin).toEqual({ rollout: 'bin/rollout.js' });
    expect(lock.name).toBe(manifest.name);
    expect(lock.packages['']!.name).toBe(manifest.name);
  });

  it('every CI example installs this package', () => {
    for (const file of ['docs/ci/github-actions.yml', 'docs/ci/gitlab-ci.yml']) {
      const text = readFileSync(join(REPO, file), 'utf8');
      const installs = [...text.matchAll(/npm install --global (\S+)/g)].map((match) => match[1]);
      expect(installs.length, file).toBeGreaterThan(0);
      for (const name of installs) expect(name, file).toBe(manifest.name);
    }
    expect(README).toContain(`npm install --global ${manifest.name}`);
  });

  it('no doc or CI file installs or runs the unrelated `rollout` outside this checkout', () => {
    // The set-up and the walkthrough run from the checkout, where `npx rollout` is its own bin.
    const inCheckout = [readmeSection('Set up'), readmeSection('Five minutes with rollout')];
    const found: string[] = [];
    for (const file of docFiles()) {
      let text = readFileSync(join(REPO, file), 'utf8');
      if (file === 'README.md') for (const section of inCheckout) text = text.replace(section, '');
      for (const match of text.matchAll(OTHER_PACKAGE)) found.push(`${file}: ${match[0]}`);
    }
    expect(found).toEqual([]);
    expect(docFiles()).toContain('docs/ci/gitlab-ci.yml');
  });

  it('the rule catches the forms that fetch the other package', () => {
    const hits = (text: string) => [...text.matchAll(OTHER_PACKAGE)].length;
    expect(hits('npm install --global rollout')).toBe(1);
    expect(hits('run: npm i -g rollout && rollout run')).toBe(1);
    expect(hits('npx rollout validate')).toBe(1);
    expect(hits('npx -y rollout')).toBe(1);
    expect(hits('npm install --global rollout-cli; npx rollout-cli validate; rollout validate')).toBe(0);
  });
});
