/** The `http` target type's schema piece (http.ts), loaded with zod only when needed. */
import { z } from '../../zod-configured.js';
import { headers, retries, timeout } from '../../plan/schema-parts.js';

const httpCall = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  url: z.string().min(1),
  headers: headers.optional(),
  body: z.unknown().optional().meta({ description: 'JSON body; the string "{{percent}}" becomes the percentage.' }),
});

/** The schema piece of the `http` target. */
export const httpSchema = {
  set: httpCall,
  get: z.strictObject({ url: z.string().min(1), headers: headers.optional(), path: z.string().min(1) }).optional(),
  emergency: z.array(httpCall).optional(),
  timeout: timeout.optional(),
  retries,
};
