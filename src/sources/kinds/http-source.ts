/** What the sources read over HTTP (prometheus, json, exposition) have in common: a URL and headers. */
import { z } from '../../zod-configured.js';
import { headers } from '../../plan/schema-parts.js';
import type { HttpHeaders, SourceConfig } from '../../plan/types.js';

/** A source read over HTTP. */
export interface HttpSourceConfig extends SourceConfig {
  url: string;
  headers: HttpHeaders;
}

/** The schema piece of a source read over HTTP. */
export const httpSourceSchema = {
  url: z.string().min(1),
  headers: headers.optional(),
};

/** Its options from a schema-valid plan entry. */
export function buildHttpSource(raw: z.output<z.ZodObject<typeof httpSourceSchema>>): Omit<HttpSourceConfig, keyof SourceConfig> {
  return { url: raw.url, headers: raw.headers ?? {} };
}
