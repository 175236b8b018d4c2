/** The `unleash` target type's schema piece (unleash.ts), loaded with zod only when needed. */
import { z } from '../../zod-configured.js';
import { retries, timeout } from '../../plan/schema-parts.js';

/** The schema piece of the `unleash` target. */
export const unleashSchema = {
  url: z.string().min(1),
  token: z.string().min(1),
  project: z.string().min(1).optional(),
  feature: z.string().min(1),
  environment: z.string().min(1),
  timeout: timeout.optional(),
  retries,
};
