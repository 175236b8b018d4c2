/** Questions to the operator. Never asked without a terminal: then the answer must come from a flag. */
import { UsageError } from '../errors.js';

export interface Prompter {
  /** True when questions can be asked (stdin is a TTY and CI is not set). */
  readonly interactive: boolean;
  /** Asks yes/no; without a terminal, throws a UsageError naming `flag`. */
  confirm(message: string, flag: string): Promise<boolean>;
}

/** The terminal prompter (@inquirer/prompts, loaded only when a question is asked). */
export function createPrompter(interactive: boolean): Prompter {
  return {
    interactive,
    async confirm(message, flag) {
      if (!interactive) {
        throw new UsageError(`${message} — cannot ask without a terminal`, `pass ${flag} to confirm non-interactively`);
      }
      const { confirm } = await import('@inquirer/prompts');
      return confirm({ message, default: false });
    },
  };
}

/** Whether this process may prompt: a terminal on stdin and not in CI. */
export function canPrompt(env: NodeJS.ProcessEnv, stdinIsTTY: boolean | undefined): boolean {
  // CI=false or CI=0 (set by some shells and runners to say "not CI") allows prompts.
  return Boolean(stdinIsTTY) && (!env.CI || env.CI === 'false' || env.CI === '0');
}
