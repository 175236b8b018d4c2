/** The `unleash` target type: the `rollout` parameter of an Unleash feature's gradual rollout. */
import { checkUrl, required, tokenVariableQuestion, yamlString as q, type FlagQuestion } from '../../commands/init-questions.js';
import { durationMs } from '../../plan/duration.js';
import { defineTargetKind } from './kind.js';
import type { unleashSchema } from './unleash-schema.js';
import type { UnleashTargetConfig } from '../unleash.js';

export type { UnleashTargetConfig };

const URL_QUESTION: FlagQuestion = { flag: '--unleash-url', arg: '<url>', help: 'the Unleash URL', message: 'Unleash URL', validate: checkUrl };
const PROJECT_QUESTION: FlagQuestion = { flag: '--project', arg: '<name>', help: 'project (default default)', message: 'Unleash project', default: 'default', validate: required };
const FEATURE_QUESTION: FlagQuestion = { flag: '--feature', arg: '<name>', help: 'feature toggle', message: 'Feature toggle name', validate: required };
const ENVIRONMENT_QUESTION: FlagQuestion = { flag: '--environment', arg: '<name>', help: 'environment (default production)', message: 'Unleash environment', default: 'production', validate: required };
const TOKEN_QUESTION = tokenVariableQuestion('--token-env', 'variable holding the Admin API token (default UNLEASH_API_TOKEN)', 'Environment variable holding the Admin API token', 'UNLEASH_API_TOKEN');

/** The `unleash` target type. */
export const unleashKind = defineTargetKind<typeof unleashSchema, UnleashTargetConfig>({
  type: 'unleash',
  schema: async () => (await import('./unleash-schema.js')).unleashSchema,
  description: 'an Unleash feature toggle\'s gradual rollout',
  build: (t) => ({
    url: t.url,
    token: t.token,
    project: t.project ?? 'default',
    feature: t.feature,
    environment: t.environment,
    timeoutMs: durationMs(t.timeout, 10_000),
    retries: t.retries ?? 3,
  }),
  create: async (config, options) => (await import('../unleash.js')).createUnleashTarget(config, options),
  init: {
    questions: [URL_QUESTION, PROJECT_QUESTION, FEATURE_QUESTION, ENVIRONMENT_QUESTION, TOKEN_QUESTION],
    async ask(asker, rollout) {
      const url = await asker.input(URL_QUESTION);
      const project = await asker.input(PROJECT_QUESTION);
      const feature = await asker.input({ ...FEATURE_QUESTION, suggest: rollout.name });
      const environment = await asker.input(ENVIRONMENT_QUESTION);
      const tokenEnv = await asker.input(TOKEN_QUESTION);
      const lines = [
        '# Sets the `rollout` parameter of the feature\'s flexibleRollout strategy in the environment.',
        'target:',
        '  type: unleash',
        `  url: ${q(url)}`,
        `  token: ${q(`\${${tokenEnv}}`)}    # an Admin API token, read from the environment`,
        `  project: ${q(project)}`,
        `  feature: ${q(feature)}`,
        `  environment: ${q(environment)}`,
      ];
      return { lines, variables: [tokenEnv] };
    },
  },
});
