/** What the sources read over HTTP (prometheus, json, exposition) have in common: a URL and headers. */
import type { z } from 'zod';
import type { HttpHeaders, SourceConfig } from '../../plan/types.js';
import type { httpSourceSchema } from './http-source-schema.js';

/** A source read over HTTP. */
export interface HttpSourceConfig extends SourceConfig {
  url: string;
  headers: HttpHeaders;
}

/** The keys of a source read over HTTP (http-source-schema.ts). */
export type HttpSourceShape = typeof httpSourceSchema;

/** Its schema piece, for the `schema` of the types read over HTTP. */
export const loadHttpSourceSchema = async (): Promise<HttpSourceShape> => (await import('./http-source-schema.js')).httpSourceSchema;

/** Its options from a schema-valid plan entry. */
export function buildHttpSource(raw: z.output<z.ZodObject<HttpSourceShape>>): Omit<HttpSourceConfig, keyof SourceConfig> {
  return { url: raw.url, headers: raw.headers ?? {} };
}
