// What scripts/plan-validator.mjs and scripts/state-validators.mjs share: zod schemas taken from
// src/ as they are now, and ajv's standalone code for their JSON Schemas, as an ES module that
// requires nothing (so that ajv stays out of the bundle).
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The module `contents` (TypeScript, importing from ./src/...), bundled and imported. */
export async function loadFromSrc(contents) {
  const result = await build({
    absWorkingDir: root,
    stdin: { contents, resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'error',
  });
  return import(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0].text).toString('base64')}`);
}

/** An ajv that generates ES module code; `options` adds to (or overrides) the shared ones. */
export function newAjv(options = {}) {
  return new Ajv2020({
    // As zod: a pattern is a RegExp without the u flag.
    unicodeRegExp: false,
    strict: true,
    allowUnionTypes: true,
    ...options,
    code: { source: true, esm: true, ...options.code },
  });
}

// ajv counts a length in code points (its runtime's ucs2length, a require the ES module cannot
// make); the same count, as `codePoints` in the generated file, keeps ajv out of the bundle.
const UCS2LENGTH = 'require("ajv/dist/runtime/ucs2length").default';
export const CODE_POINTS = 'const codePoints = (text) => [...text].length;';

/** ajv's standalone code for `validators` (a compiled validator, or export name → schema $id). */
export function standalone(ajv, validators) {
  const code = standaloneCode(ajv, validators).replaceAll(UCS2LENGTH, 'codePoints');
  if (/require\(/.test(code)) throw new Error(`the generated validator requires a module: ${/require\([^)]*\)/.exec(code)[0]}`);
  return code;
}

/** Writes `text` to `target`, or prints it with --print. */
export function writeOrPrint(target, text) {
  if (process.argv.includes('--print')) process.stdout.write(text);
  else writeFileSync(fileURLToPath(target), text);
}
