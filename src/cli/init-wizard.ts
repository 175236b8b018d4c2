/**
 * The terminal side of `rollout init`: its questions asked with @inquirer/prompts. Loaded only
 * when a terminal is there to answer, so scripted and CI runs never load the prompt library.
 */
import { checkbox, input, select } from '@inquirer/prompts';
import type { Asker } from './asker.js';
import { InterruptedError } from '../errors.js';

/** An Asker that prompts on the terminal; `signal` (Ctrl-C, SIGTERM) cancels the open prompt. */
export function createWizardAsker(signal: AbortSignal): Asker {
  return {
    input: (q) =>
      ask(() =>
        input(
          {
            message: q.message,
            default: q.default ?? q.suggest,
            validate: (value) => q.validate?.(value) ?? true,
          },
          { signal },
        ),
      ),
    select: (q) =>
      ask(() =>
        select(
          { message: q.message, choices: q.choices.map((c) => ({ value: c.value, name: c.name })), default: q.default ?? q.suggest },
          { signal },
        ),
      ),
    checkbox: (q) =>
      ask(() =>
        checkbox(
          { message: q.message, choices: q.choices.map((c) => ({ value: c.value, name: c.name, checked: q.default.includes(c.value) })) },
          { signal },
        ),
      ),
  };
}

/**
 * Runs one prompt. Ctrl-C in a prompt arrives as the prompt's own error (the terminal is in raw
 * mode, so no SIGINT); both it and an aborted signal end the command as an interruption.
 */
async function ask<T>(prompt: () => Promise<T>): Promise<T> {
  try {
    return await prompt();
  } catch (err) {
    if (err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError')) throw new InterruptedError('init cancelled; nothing was written');
    throw err;
  }
}
