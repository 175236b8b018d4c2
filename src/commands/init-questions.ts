/**
 * The questions of `rollout init` and the checks of their answers, shared by init.ts and the
 * target types' own questions (src/targets/kinds/). Every question has a flag; a flag that is
 * given is never asked.
 */

export type { Asker, CheckboxQuestion, Choice, Question, SelectQuestion } from '../cli/asker.js';
import type { Question, SelectQuestion } from '../cli/asker.js';

export interface FlagQuestion extends Question {
  /** The flag's value as `--help` shows it, e.g. "<path>". */
  arg: string;
  help: string;
}

/** Asks a type's questions: each answer is its flag's value (checked) or, without one, asked. */
export interface FlagAsker {
  input(q: FlagQuestion): Promise<string>;
  choose<T extends string>(q: FlagQuestion & SelectQuestion<T>): Promise<T>;
}

/** An answer must not be empty. */
export function required(v: string): string | undefined {
  return v.trim() === '' ? 'an answer is needed' : undefined;
}

/** An http(s) URL without credentials. */
export function checkUrl(v: string): string | undefined {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return 'expected a URL such as https://flags.example.com/api/flags/checkout';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'expected an http:// or https:// URL';
  // Credentials in a URL end up in a file that gets committed; they belong in an environment variable.
  if (url.username || url.password) return 'take the credentials out of the URL and give the name of a variable holding a token instead';
  return undefined;
}

/** An environment variable's name. */
export function checkVariable(v: string): string | undefined {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(v) ? undefined : 'expected an environment variable name such as FLAG_TOKEN';
}

/** An environment variable's name, or nothing. */
/**
 * A question for the name of the environment variable holding a token (never the token itself);
 * an empty `fallback` makes the answer optional.
 */
export function tokenVariableQuestion(flag: string, help: string, message: string, fallback: string): FlagQuestion {
  return { flag, arg: '<var>', help, message, default: fallback, validate: fallback === '' ? checkOptionalVariable : checkVariable };
}

export function checkOptionalVariable(v: string): string | undefined {
  return optional(v) === undefined ? undefined : checkVariable(v.trim());
}

/** "" and "none" both mean "leave it out" for optional answers. */
export function optional(value: string): string | undefined {
  const v = value.trim();
  return v === '' || v === 'none' ? undefined : v;
}

/** Splits a command line into argv: whitespace separates, quotes group, no shell is involved. */
export function splitArgv(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

/** A YAML string: single-quoted when it holds double quotes (PromQL selectors read better so). */
export function yamlString(text: string): string {
  return text.includes('"') ? `'${text.replace(/'/g, "''")}'` : JSON.stringify(text);
}

/** `Bearer ${VAR}` as a YAML string, for a token read from the environment. */
export function bearer(variable: string): string {
  return yamlString(`Bearer \${${variable}}`);
}
