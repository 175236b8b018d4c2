/** Questions to the operator. Never asked without a terminal: then the answer must come from a flag. */
import { CancelledError, DeclinedError, UsageError } from '../errors.js';

export interface Prompter {
  /** True when questions can be asked (stdin is a TTY and CI is not set). */
  readonly interactive: boolean;
  /** Asks yes/no; without a terminal, throws a UsageError naming `flag`; Ctrl-C throws a CancelledError. */
  confirm(message: string, flag: string): Promise<boolean>;
}

/**
 * The terminal prompter (@inquirer/prompts, loaded only when a question is asked). `signal`
 * (SIGINT, SIGTERM, SIGHUP, a closed output) closes an open prompt.
 */
export function createPrompter(interactive: () => boolean, signal?: AbortSignal): Prompter {
  // Asked when first needed: looking at stdin creates Node's stream for it, which most commands never read.
  let known: boolean | undefined;
  const isInteractive = () => (known ??= interactive());
  return {
    get interactive() {
      return isInteractive();
    },
    async confirm(message, flag) {
      if (!isInteractive()) {
        throw new UsageError(`${message} — cannot ask without a terminal`, `pass ${flag} to confirm non-interactively`);
      }
      const { confirm } = await import('@inquirer/prompts');
      return cancellable(() => confirm({ message, default: false }, { signal }), 'cancelled; nothing changed');
    },
  };
}

/**
 * Runs one prompt. Ctrl-C in a prompt arrives as the prompt's own error (the terminal is in raw
 * mode, so no SIGINT); both it and an aborted signal end the command as a cancellation (exit 130)
 * that says `message`, never as "a bug in rollout".
 */
export async function cancellable<T>(prompt: () => Promise<T>, message: string): Promise<T> {
  try {
    return await prompt();
  } catch (err) {
    if (err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError')) throw new CancelledError(message);
    throw err;
  }
}

/** Asks `question` unless `yes` was given; a "no" stops the command with nothing changed (exit 3). */
export async function confirmOrDecline(prompter: Prompter, question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!(await prompter.confirm(question, '--yes'))) throw new DeclinedError();
}

/** Whether this process may prompt: a terminal on stdin and not in CI. */
export function canPrompt(env: NodeJS.ProcessEnv, stdinIsTTY: boolean | undefined): boolean {
  // CI=false or CI=0 (set by some shells and runners to say "not CI") allows prompts.
  return Boolean(stdinIsTTY) && (!env.CI || env.CI === 'false' || env.CI === '0');
}
