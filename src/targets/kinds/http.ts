/** The `http` target type: a flag API, the percentage sent in a request and read back from another. */
import { bearer, checkUrl, optional, tokenVariableQuestion, yamlString as q, type FlagQuestion } from '../../commands/init-questions.js';
import { durationMs } from '../../plan/duration.js';
import { defineTargetKind } from './kind.js';
import type { httpSchema } from './http-schema.js';
import type { HttpCall, HttpTargetConfig } from '../http.js';

export type { HttpCall, HttpTargetConfig };

const URL_QUESTION: FlagQuestion = { flag: '--flag-url', arg: '<url>', help: 'URL of the flag API', message: 'URL of the flag API', validate: checkUrl };
const METHOD_QUESTION = {
  flag: '--flag-method',
  arg: '<method>',
  help: 'PUT | POST | PATCH (default PUT)',
  message: 'HTTP method that sets the percentage',
  default: 'PUT',
  choices: (['PUT', 'POST', 'PATCH'] as const).map((value) => ({ value, name: value })),
};
const READ_BACK_QUESTION: FlagQuestion = {
  flag: '--read-back-path',
  arg: '<path>',
  help: 'path of the percentage in the GET answer (default percentage; none to skip)',
  message: 'Path of the percentage in its GET answer (none: no read-back)',
  default: 'percentage',
};
const TOKEN_QUESTION = tokenVariableQuestion('--flag-token-env', 'environment variable holding a bearer token', 'Environment variable holding a bearer token for the flag API (empty: none)', '');

/** The `http` target type. */
export const httpKind = defineTargetKind<typeof httpSchema, HttpTargetConfig>({
  type: 'http',
  description: 'a flag API (PUT/POST the percentage, GET it back)',
  schema: async () => (await import('./http-schema.js')).httpSchema,
  build: (t) => ({
    set: { method: t.set.method ?? 'PUT', url: t.set.url, headers: t.set.headers ?? {}, body: t.set.body },
    get: t.get && { url: t.get.url, headers: t.get.headers ?? {}, path: t.get.path },
    emergency: (t.emergency ?? []).map((c) => ({ method: c.method ?? 'POST', url: c.url, headers: c.headers ?? {}, body: c.body })),
    timeoutMs: durationMs(t.timeout, 10_000),
    retries: t.retries ?? 3,
  }),
  create: async (config, options) => (await import('../http.js')).createHttpTarget(config, options),
  init: {
    questions: [URL_QUESTION, METHOD_QUESTION, READ_BACK_QUESTION, TOKEN_QUESTION],
    async ask(asker) {
      const url = await asker.input(URL_QUESTION);
      const method = await asker.choose(METHOD_QUESTION);
      const readBackPath = optional(await asker.input(READ_BACK_QUESTION));
      const tokenEnv = optional(await asker.input(TOKEN_QUESTION));
      const auth = tokenEnv ? [`    headers: { Authorization: ${bearer(tokenEnv)} }`] : [];
      const get = readBackPath
        ? ['  # Read back after every change (it must match) and before every command (drift check).', '  get:', `    url: ${q(url)}`, ...auth, `    path: ${q(readBackPath)}`]
        : ['  # Without `get`, a change cannot be confirmed and drift cannot be detected; add one if the API can.'];
      const lines = [
        'target:',
        '  type: http',
        '  # The body your flag API expects; "{{percent}}" is sent as the number.',
        '  set:',
        `    method: ${method}`,
        `    url: ${q(url)}`,
        ...auth,
        '    body: { percentage: "{{percent}}" }',
        ...get,
      ];
      return { lines, variables: tokenEnv ? [tokenEnv] : [] };
    },
  },
});
