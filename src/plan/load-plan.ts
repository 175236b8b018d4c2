/**
 * Plan file → typed Plan. Every problem (YAML syntax, unsafe YAML, unset variables, schema,
 * semantic rules) is collected with file:line:col and thrown together as one PlanError.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PlanError, type PlanProblem } from '../errors.js';
import { buildPlan, type PathProblem } from './build-plan.js';
import { interpolate, type InterpolationReport } from './interpolate.js';
import type { PlanParseCache } from './parse-cache.js';
import { validate as acceptsPlanShape } from './plan-shape.generated.js';
import type { PlanYaml } from './plan-yaml.js';
import { processSecrets, type Secrets } from './secrets.js';
import type { RawPlan } from './schema.js';
import type { Plan } from './types.js';

/** Plans are a few kilobytes; anything this large is a mistake or an attack. */
export const MAX_PLAN_BYTES = 1024 * 1024;
/** Aliases beyond this are refused (a "billion laughs" document expands exponentially). */
const MAX_ALIASES = 100;
/**
 * The largest example plan has about a thousand YAML tokens (keys, values, punctuation). Parsing is
 * the slow part (a 600 KB list of 300k items takes over a second and 380 MB), so the tokens are
 * counted first, which stops early and costs milliseconds.
 */
export const MAX_PLAN_TOKENS = 20_000;
/** Problems listed at most; a broken generated file could otherwise print thousands. */
const MAX_PROBLEMS = 50;

export interface LoadPlanOptions {
  env?: NodeJS.ProcessEnv;
  secrets?: Secrets;
  /** Told each problem that does not make the plan invalid, e.g. a secret too short to redact. */
  onWarning?: (problem: PlanProblem) => void;
  /**
   * An unset `${VAR}` is a warning, not an error (`rollout validate` without --strict-env): a CI
   * lint step checks a plan without production secrets. Commands that act keep it an error.
   */
  unsetIsWarning?: boolean;
  /** The parsed YAML of plans read before (parse-cache.ts): the same text is not parsed again. */
  parseCache?: PlanParseCache;
}

/** Reads and validates the plan at `file`; throws PlanError listing every problem. */
export async function loadPlan(file: string, options: LoadPlanOptions = {}): Promise<Plan> {
  return parsePlan(await readPlanFile(file), file, options);
}

const TOO_LARGE = [`the plan is over the ${MAX_PLAN_BYTES}-byte limit`, 'a plan is a few kilobytes; check that this is the right file'] as const;
const NOT_A_FILE_HINT = 'pass the path of the plan file, e.g. `rollout validate rollout.yaml`, or write one with `rollout init`';

/**
 * Reads the plan: a regular file of at most MAX_PLAN_BYTES, checked before a byte is read. A FIFO
 * would block forever and /dev/zero never ends, so they are refused rather than read. Read with
 * synchronous calls: a plan is a few kilobytes, and node:fs/promises costs every command a module
 * load at start-up.
 */
async function readPlanFile(file: string): Promise<string> {
  const refuse = (message: string, hint = NOT_A_FILE_HINT) => new PlanError([{ file, line: 1, col: 1, message, hint }]);
  let fd: number;
  try {
    // Non-blocking, so that opening a FIFO returns at once (to be refused) instead of waiting for a writer.
    fd = openSync(resolve(file), constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw refuse(`cannot read the plan: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    const info = fstatSync(fd);
    if (info.isDirectory()) throw refuse('cannot read the plan: is a directory');
    if (!info.isFile()) throw refuse(`cannot read the plan: not a regular file (${fileKind(info)})`);
    if (info.size > MAX_PLAN_BYTES) throw refuse(...TOO_LARGE);
    // One byte more than allowed: a file that grew since the stat is still caught.
    const buffer = Buffer.allocUnsafe(MAX_PLAN_BYTES + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read) read = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > MAX_PLAN_BYTES) throw refuse(...TOO_LARGE);
    return buffer.toString('utf8', 0, length);
  } catch (err) {
    if (err instanceof PlanError) throw err;
    throw refuse(`cannot read the plan: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

function fileKind(info: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (info.isFIFO()) return 'a named pipe';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  return 'not a file';
}

/** Validates plan text; `file` is used for messages and to resolve relative paths. */
export async function parsePlan(text: string, file: string, options: LoadPlanOptions = {}): Promise<Plan> {
  if (text.length > MAX_PLAN_BYTES) throw new PlanError([problemAt(file, 1, 1, ...TOO_LARGE)]);
  /** The plan's YAML, parsed at most once: to read a plan the cache does not hold, and to locate a problem in any. */
  let yaml: PlanYaml | undefined;
  let data = options.parseCache?.read(text);
  if (data === undefined) {
    ({ data, yaml } = await readYaml(text, file));
    // A collection as a key makes toJS print a warning, which a run from the cache would not.
    if (options.parseCache && !yaml.hasCollectionKey()) options.parseCache.keep(text, data);
  }

  const secrets = options.secrets ?? processSecrets;
  const found: InterpolationReport = { unset: [], tooShort: [] };
  const interpolated = interpolate(data, options.env ?? process.env, secrets, found);
  // Messages quote values from the plan, and those may have come from ${VAR}.
  const located = async (problems: PathProblem[]): Promise<PlanProblem[]> => {
    if (problems.length === 0) return [];
    const where = (yaml ??= (await import('./plan-yaml.js')).parsePlanYaml(text));
    return problems.map((p) => ({ file, ...where.position(p.path, p.atKey), message: secrets.redact(p.message), hint: p.hint }));
  };
  const invalid = async (problems: PathProblem[]) => new PlanError(listed(sortProblems(await located(problems))));
  const unset: PathProblem[] = found.unset.map((u) => ({
    path: u.path,
    message: `environment variable ${u.name} is not set`,
    hint: `export ${u.name}=… before running, or write $\${${u.name}} for a literal`,
  }));
  const problems: PathProblem[] = options.unsetIsWarning ? [] : unset;
  // The generated validator accepts exactly what the zod schema accepts, with the built-in types
  // (test/plan/plan-shape.test.ts), and costs no zod, not even its loading: zod runs for the plans
  // it rejects, to say what is wrong, and for types registered at run time.
  const parsed = acceptsPlanShape(interpolated)
    ? { success: true as const, data: interpolated as RawPlan }
    : await (await import('./schema-problems.js')).parseWithSchema(interpolated);
  if (!parsed.success) throw await invalid(problems.concat(parsed.problems));
  const absolute = resolve(file);
  const built = buildPlan(parsed.data, { file: absolute, dir: dirname(absolute), secrets });
  problems.push(...built.problems);
  if (!built.plan || problems.length > 0) throw await invalid(problems);
  if (options.onWarning) {
    const tooShort = found.tooShort.map((short): PathProblem => ({
      path: short.path,
      message: `secret \${${short.name}} is ${short.length} character${short.length === 1 ? '' : 's'}; too short to redact safely`,
      hint: 'it is hidden only within the longer text around it here (a URL, a header); use a longer secret, or write the value into the plan if it is not secret',
    }));
    for (const warning of await located([...built.warnings, ...(options.unsetIsWarning ? unset : []), ...tooShort])) options.onWarning(warning);
  }
  const raw = data as { target?: unknown; notify?: unknown };
  return { ...built.plan, record: planRecord(absolute, text, raw.target, raw.notify) };
}

/**
 * The plan's YAML as data: a mapping, or a PlanError saying why not (too many tokens, bad syntax,
 * unsafe aliases, not a mapping); and the parsed YAML, to locate problems in.
 */
async function readYaml(text: string, file: string): Promise<{ data: object; yaml: PlanYaml }> {
  const { hasMoreTokens, parsePlanYaml } = await import('./plan-yaml.js');
  const at = (line: number, col: number, message: string, hint?: string) => problemAt(file, line, col, message, hint);
  // A character makes at most two tokens (a scalar and its marker), so shorter plans, every example
  // among them, need no count.
  if (text.length > MAX_PLAN_TOKENS / 2 && hasMoreTokens(text, MAX_PLAN_TOKENS)) {
    throw new PlanError([at(1, 1, `the plan has over ${MAX_PLAN_TOKENS} YAML tokens (keys, values, list items)`, 'a plan has about a thousand; check that this is the right file')]);
  }
  let yaml: PlanYaml;
  let data: unknown;
  try {
    yaml = parsePlanYaml(text);
    const syntax = [...yaml.document.errors, ...yaml.document.warnings];
    if (syntax.length > 0) {
      throw new PlanError(
        listed(syntax.map((e) => at(e.linePos?.[0].line ?? 1, e.linePos?.[0].col ?? 1, firstLine(e.message), 'fix the YAML syntax here'))),
      );
    }
    data = yaml.document.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    if (err instanceof PlanError) throw err;
    // yaml throws for alias bombs and for documents too deep to walk.
    throw new PlanError([at(1, 1, `unsafe or unreadable YAML: ${firstLine((err as Error).message)}`, 'remove the repeated aliases (*name) or the deep nesting')]);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new PlanError([at(1, 1, 'the plan must be a YAML mapping (version, name, stages, target, …)', 'start from `rollout init` or an example in rollout-plans/')]);
  }
  if (holdsItself(data)) {
    throw new PlanError([at(1, 1, 'unsafe or unreadable YAML: an alias (*name) inside the node it names makes the plan endless', 'point the alias at another node, or write the values out')]);
  }
  return { data, yaml };
}

/** True when `value` contains itself: what YAML gives for an alias inside its own anchor (`&a { self: *a }`). */
function holdsItself(value: unknown, ancestors = new Set<object>()): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (ancestors.has(value)) return true;
  ancestors.add(value);
  const found = Object.values(value).some((child) => holdsItself(child, ancestors));
  ancestors.delete(value);
  return found;
}

function problemAt(file: string, line: number, col: number, message: string, hint?: string): PlanProblem {
  return { file, line, col, message, hint };
}

/**
 * What a rollout records of its plan. The digest is worked out when first read (a rollout's state
 * keeps it; `validate` never reads it), and node:crypto loaded then: loading it cost 2.4 ms.
 */
function planRecord(file: string, text: string, target: unknown, notify: unknown): NonNullable<Plan['record']> {
  let sha256: string | undefined;
  return {
    file,
    get sha256() {
      return (sha256 ??= process.getBuiltinModule('node:crypto').createHash('sha256').update(text).digest('hex'));
    },
    target,
    notify,
  };
}

/** The first MAX_PROBLEMS problems, and a last line counting the rest. */
function listed(problems: PlanProblem[]): PlanProblem[] {
  const rest = problems.slice(MAX_PROBLEMS);
  if (rest.length === 0) return problems;
  const next = rest[0] as PlanProblem;
  return [...problems.slice(0, MAX_PROBLEMS), { ...next, message: `and ${rest.length} more problems from here on`, hint: undefined }];
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function sortProblems(problems: PlanProblem[]): PlanProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.col - b.col);
}
