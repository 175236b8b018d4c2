/** The schema piece of a source read over HTTP (http-source.ts), loaded with zod only when needed. */
import { z } from '../../zod-configured.js';
import { headers } from '../../plan/schema-parts.js';

/** The schema piece of a source read over HTTP. */
export const httpSourceSchema = {
  url: z.string().min(1),
  headers: headers.optional(),
};
