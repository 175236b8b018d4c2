/** The `command` target type's schema piece (command.ts), loaded with zod only when needed. */
import { z } from '../../zod-configured.js';
import { argv, timeout } from '../../plan/schema-parts.js';

/** The schema piece of the `command` target. */
export const commandSchema = {
  set: argv,
  get: argv.optional(),
  emergency: z.array(argv).optional(),
  timeout: timeout.optional(),
};
