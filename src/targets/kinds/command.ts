/** The `command` target type: programs run (without a shell) to set and read the percentage. */
import { optional, splitArgv, yamlString as q, type FlagQuestion } from '../../commands/init-questions.js';
import { durationMs } from '../../plan/duration.js';
import { defineTargetKind } from './kind.js';
import type { commandSchema } from './command-schema.js';
import type { CommandTargetConfig } from '../command.js';

export type { CommandTargetConfig };

const SET_QUESTION: FlagQuestion = {
  flag: '--set-command',
  arg: '<command>',
  help: 'sets the percentage; {{percent}} marks where it goes',
  message: 'Command that sets the percentage, with {{percent}} where the number goes',
  validate: (v) => (v.includes('{{percent}}') ? undefined : 'put {{percent}} where the percentage goes, e.g. "flagctl set checkout {{percent}}"'),
};
const GET_QUESTION: FlagQuestion = {
  flag: '--get-command',
  arg: '<command>',
  help: 'prints the current percentage',
  message: 'Command that prints the current percentage (empty: none)',
  default: '',
};

/** The `command` target type. */
export const commandKind = defineTargetKind<typeof commandSchema, CommandTargetConfig>({
  type: 'command',
  description: 'a program you run with the percentage',
  schema: async () => (await import('./command-schema.js')).commandSchema,
  build: (t) => ({ set: t.set, get: t.get, emergency: t.emergency ?? [], timeoutMs: durationMs(t.timeout, 60_000) }),
  create: async (config) => (await import('../command.js')).createCommandTarget(config),
  init: {
    questions: [SET_QUESTION, GET_QUESTION],
    async ask(asker) {
      const get = optional(await asker.input(GET_QUESTION));
      const set = splitArgv(await asker.input(SET_QUESTION));
      const list = (argv: string[]) => `[${argv.map((a) => q(a)).join(', ')}]`;
      const lines = [
        '# Run without a shell; "{{percent}}" becomes the percentage.',
        'target:',
        '  type: command',
        `  set: ${list(set)}`,
        ...(get ? [`  get: ${list(splitArgv(get))}    # prints the current percentage`] : ['  # get: [...]   # a command printing the current percentage, for the drift check']),
      ];
      return { lines, variables: [] };
    },
  },
});
