/** The `env-file` target type: one line of a .env file, rewritten in place. */
import { resolve } from 'node:path';
import { checkVariable, required, yamlString as q, type FlagQuestion } from '../../commands/init-questions.js';
import { durationMs } from '../../plan/duration.js';
import { defineTargetKind } from './kind.js';
import type { envFileSchema } from './env-file-schema.js';
import type { EnvFileTargetConfig } from '../env-file.js';

export type { EnvFileTargetConfig };

// Not --env-file: Node 20 takes that for its own option even after the script name.
const PATH_QUESTION: FlagQuestion = {
  flag: '--env-path',
  arg: '<path>',
  help: 'the file (default .env)',
  message: 'Path of the env file (relative to the plan)',
  default: '.env',
  validate: required,
};
const KEY_QUESTION: FlagQuestion = { flag: '--key', arg: '<name>', help: 'the variable holding the percentage', message: 'Variable that holds the percentage', validate: checkVariable };

/** The `env-file` target type. */
export const envFileKind = defineTargetKind<typeof envFileSchema, EnvFileTargetConfig>({
  type: 'env-file',
  description: 'one line of a .env file',
  schema: async () => (await import('./env-file-schema.js')).envFileSchema,
  build: (t, dir) => ({
    path: resolve(dir, t.path),
    key: t.key,
    after: t.after,
    emergency: Object.fromEntries(Object.entries(t.emergency ?? {}).map(([k, v]) => [k, String(v)])),
    timeoutMs: durationMs(t.timeout, 60_000),
  }),
  create: async (config) => (await import('../env-file.js')).createEnvFileTarget(config),
  init: {
    questions: [PATH_QUESTION, KEY_QUESTION],
    async ask(asker, rollout) {
      const path = await asker.input(PATH_QUESTION);
      const key = await asker.input({ ...KEY_QUESTION, suggest: `${rollout.name.toUpperCase().replace(/-/g, '_')}_ROLLOUT_PERCENTAGE` });
      const lines = [
        '# One line of the file is rewritten (comments, order and other keys kept), atomically, with the',
        '# previous file kept as <path>.bak. A relative path resolves against this plan\'s directory.',
        'target:',
        '  type: env-file',
        `  path: ${q(path)}`,
        `  key: ${q(key)}`,
        '  # If the app reads the file only at start-up, restart it after each change (no shell):',
        '  # after: [docker-compose, up, -d]',
      ];
      return { lines, variables: [] };
    },
  },
});
