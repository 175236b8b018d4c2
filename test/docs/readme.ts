/** Reads the README's sections and the shell commands in them, as a reader would copy them. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The text under `## <title>`, up to the next `## ` heading. */
export function readmeSection(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** The contents of each ```sh block in a piece of markdown. */
export function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/** One command line of a block: the command, its trailing comment, and the exit code it promises. */
export interface ReadmeCommand {
  command: string;
  comment: string;
  expectedExit: number;
}

/** The command lines of a block (full-line comments and blank lines left out); exit 0 unless the comment names one. */
export function commandsOf(block: string): ReadmeCommand[] {
  return block
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'))
    .map((line) => {
      const hash = line.search(/\s#\s/);
      const command = (hash < 0 ? line : line.slice(0, hash)).trim();
      const comment = hash < 0 ? '' : line.slice(hash).trim();
      const exit = /\bexit (\d+)/.exec(comment);
      return { command, comment, expectedExit: exit ? Number(exit[1]) : 0 };
    });
}
