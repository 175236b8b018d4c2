/**
 * The terminal side of `rollout init`: its questions asked with @inquirer/prompts. Loaded only
 * when a terminal is there to answer, so scripted and CI runs never load the prompt library.
 */
import { checkbox, input, select } from '@inquirer/prompts';
import type { Asker } from './asker.js';
import { cancellable } from './prompter.js';

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

/** Runs one prompt; Ctrl-C or the signal cancels the wizard (exit 130). */
function ask<T>(prompt: () => Promise<T>): Promise<T> {
  return cancellable(prompt, 'init cancelled; nothing was written');
}
