/** The `env-file` target type's schema piece (env-file.ts), loaded with zod only when needed. */
import { z } from '../../zod-configured.js';
import { argv, timeout } from '../../plan/schema-parts.js';

/** The schema piece of the `env-file` target. */
export const envFileSchema = {
  path: z.string().min(1),
  key: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'expected an environment variable name'),
  after: argv.optional(),
  emergency: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  timeout: timeout.optional(),
};
