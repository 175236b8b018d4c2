/**
 * Checks `--json` output against the JSON Schemas in schema/ (the contract of README "JSON
 * output"): one document on one line for a single-shot command, JSON lines for a stream.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

/** The output schema files, by name (schema/<name>.schema.json). */
export type OutputSchema = 'validate' | 'status' | 'check' | 'advance' | 'hold' | 'resume' | 'rollback' | 'run' | 'history' | 'list' | 'report' | 'state-migrate' | 'init' | 'demo' | 'error';

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats.default(ajv);
const compiled = new Map<OutputSchema, ValidateFunction>();

/** The schema file as checked in. */
export function schemaFile(name: OutputSchema): unknown {
  return JSON.parse(readFileSync(new URL(`../../schema/${name}.schema.json`, import.meta.url), 'utf8'));
}

function validator(name: OutputSchema): ValidateFunction {
  let validate = compiled.get(name);
  if (!validate) compiled.set(name, (validate = ajv.compile(schemaFile(name) as object)));
  return validate;
}

/** Fails naming every violation when `value` does not fit the schema. */
export function expectFits(name: OutputSchema, value: unknown): void {
  const validate = validator(name);
  validate(value);
  expect(validate.errors ?? [], `${name}.schema.json: ${JSON.stringify(value)}`).toEqual([]);
}

/** The lines of `stdout`, each one compact JSON document. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  const lines = stdout.split('\n').filter((line) => line !== '');
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A single-shot command's stdout: exactly one line, one document, fitting `name`. */
export function expectDocument(name: OutputSchema, stdout: string): Record<string, unknown> {
  expect(stdout.endsWith('\n') && stdout.indexOf('\n') === stdout.length - 1, `one line of JSON: ${stdout}`).toBe(true);
  const [doc] = jsonLines(stdout);
  expectFits(name, doc);
  return doc!;
}

/** A stream's stdout: every line a document fitting `name` (a last line may be an error document). */
export function expectStream(name: OutputSchema, stdout: string): Record<string, unknown>[] {
  const docs = jsonLines(stdout);
  expect(docs.length).toBeGreaterThan(0);
  docs.forEach((doc, i) => expectFits(i === docs.length - 1 && doc.kind === 'error' ? 'error' : name, doc));
  return docs;
}
