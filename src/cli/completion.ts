/**
 * Shell completion through @bomb.sh/tab: `rollout completion bash|zsh|fish` prints the script,
 * and the script asks `rollout complete -- <words>` (hidden) at each Tab, so completions follow
 * the commands and options as they are defined here. Loaded only for those two commands.
 */
import tab from '@bomb.sh/tab/commander';
import type { Command } from 'commander';
import { COMPLETION_EXAMPLE, COMPLETION_SUMMARY } from './help-text.js';

/**
 * The library's bash script reads the words with bash-completion's `_get_comp_words_by_ref`. Where
 * that package is not loaded (a bare bash, macOS without it), this stand-in reads COMP_WORDS the
 * same way; bash-completion, when loaded, keeps its own.
 */
const BASH_WITHOUT_BASH_COMPLETION = `# Without the bash-completion package: read the words from COMP_WORDS directly.
if ! declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
  _get_comp_words_by_ref() {
    cur=\${COMP_WORDS[COMP_CWORD]}
    prev=\${COMP_WORDS[COMP_CWORD-1]}
    words=("\${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  }
fi
`;

/** Adds the library's `completion` and `complete` commands to `program`, with every command's aliases. */
export function addCompletion(program: Command): void {
  const root = tab(program, { completionCommandName: 'completion' });
  // The library completes command names only; aliases (promote, pause) are names people type too.
  for (const command of program.commands) for (const alias of command.aliases()) root.command(alias, command.description());
  const completion = program.commands.find((command) => command.name() === 'completion');
  completion?.description(COMPLETION_SUMMARY).addHelpText('after', COMPLETION_EXAMPLE).action((shell: string) => {
    if (shell === 'bash') process.stdout.write(BASH_WITHOUT_BASH_COMPLETION);
    root.setup(program.name(), program.name(), shell);
  });
}
