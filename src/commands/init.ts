/**
 * `rollout init`: asks what a first plan needs (name, target, stages, bake, metrics source, the
 * common metrics and their limits), writes it as a commented YAML file and checks it with the
 * real loader first. Every question has a flag; a flag that is given is never asked, and without
 * a terminal a question with no default is a UsageError naming its flag.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { packageFile } from '../package-file.js';
import { initDocument } from '../cli/json-documents.js';
import { ExitCode, formatProblem, UsageError } from '../errors.js';
import { parseDuration } from '../plan/duration.js';
import { checkLimits } from '../plan/limit-checks.js';
import { parsePlan } from '../plan/load-plan.js';
import { NAME_PATTERN } from '../plan/schema.js';
import { Secrets } from '../plan/secrets.js';
import type { MetricUnit } from '../plan/types.js';
import { sourceKinds } from '../sources/kinds/index.js';
import type { CommonMetricId } from '../sources/kinds/kind.js';
import { targetKinds } from '../targets/kinds/index.js';
import type { CommandContext, CommandResult } from '../context.js';
import { COMMON_METRICS, offeredByInit, referencedVariables, renderPlan, type InitAnswers, type MetricAnswer } from './init-plan.js';
import {
  checkOptionalVariable,
  checkUrl,
  optional,
  type Asker,
  type CheckboxQuestion,
  type FlagAsker,
  type Question,
  type SelectQuestion,
} from './init-questions.js';

/** The flags of `rollout init`, one per question (plus where to write). */
export interface InitOptions {
  json?: boolean;
  output?: string;
  force?: boolean;
  name?: string;
  target?: string;
  stages?: string;
  bake?: string;
  source?: string;
  sourceUrl?: string;
  sourceTokenEnv?: string;
  metrics?: string;
  /** The target types' own flags (envPath from --env-path, …) and the limits (errorRateWarning from --error-rate-warning, …). */
  [flag: string]: string | boolean | undefined;
}

/** Writes a plan from the answers (asked, or taken from the flags) and says what to do next. */
export async function initCommand(options: InitOptions, ctx: CommandContext): Promise<CommandResult> {
  const file = resolve(options.output ?? 'rollout.yaml');
  const shown = options.output ?? 'rollout.yaml';
  // Refuse before the questions, not after someone has answered all of them.
  if (!options.force && existsSync(file)) throw alreadyExists(shown);
  const asker = ctx.prompter.interactive ? (await import('../cli/init-wizard.js')).createWizardAsker(ctx.signal) : flagsOnly;
  const answers = await gatherAnswers(options, asker, dirname(file));
  const text = renderPlan(answers, schemaReference(dirname(file)));
  const variables = referencedVariables(answers);
  // Checked as the loader will check it; the variables only have to exist, not hold real secrets.
  await parsePlan(text, file, {
    env: Object.fromEntries(variables.map((v) => [v, 'set-at-run-time'])),
    secrets: new Secrets(),
    onWarning: (p) => ctx.out.error(`warning: ${formatProblem({ ...p, file: shown })}`),
  });
  await mkdir(dirname(file), { recursive: true });
  try {
    await writeFile(file, text, { flag: options.force ? 'w' : 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists(shown);
    throw err;
  }
  report(answers, shown, variables, options, ctx);
  return { exitCode: ExitCode.ok };
}

function alreadyExists(file: string): UsageError {
  return new UsageError(`${file} already exists; not overwriting it`, 'pass --force to replace it, or --output <file> to write elsewhere');
}

/** Without a terminal: the default when there is one, else an error naming the flag. */
const flagsOnly: Asker = {
  input: async (q) => q.default ?? missing(q),
  select: async <T extends string>(q: SelectQuestion<T>) => (q.default as T | undefined) ?? missing(q),
  checkbox: async (q) => q.default,
};

function missing(q: Question): never {
  throw new UsageError(`${q.flag} is required without a terminal (${q.message})`, `pass ${q.flag} <value>, or run \`rollout init\` in a terminal to be asked`);
}

/** The flag's value (checked), or the question's answer. */
async function answer(asker: Asker, given: string | undefined, q: Question): Promise<string> {
  if (given === undefined) return asker.input(q);
  const problem = q.validate?.(given);
  if (problem) throw new UsageError(`${q.flag} ${JSON.stringify(given)}: ${problem}`, `run \`rollout init --help\` for the accepted values`);
  return given;
}

async function choose<T extends string>(asker: Asker, given: string | undefined, q: SelectQuestion<T>): Promise<T> {
  if (given === undefined) return asker.select(q);
  const choice = q.choices.find((c) => c.value === given);
  if (!choice) throw new UsageError(`${q.flag} ${JSON.stringify(given)} is not one of ${q.choices.map((c) => c.value).join(', ')}`, `pass one of them, e.g. ${q.flag} ${q.choices[0]?.value}`);
  return choice.value;
}

async function pick<T extends string>(asker: Asker, given: string | undefined, q: CheckboxQuestion<T>): Promise<T[]> {
  if (given === undefined) return asker.checkbox(q);
  if (given === 'none' || given === '') return [];
  const values = q.choices.map((c) => c.value);
  const picked = given.split(',').map((v) => v.trim());
  const unknown = picked.filter((v) => !values.includes(v as T));
  if (unknown.length > 0) throw new UsageError(`${q.flag}: unknown ${unknown.join(', ')}`, `use a comma-separated list of ${values.join(', ')} (or none)`);
  return values.filter((v) => picked.includes(v));
}

/** The value of `flag` (e.g. --env-path is options.envPath), when given. */
function given(options: InitOptions, flag: string): string | undefined {
  const value = options[camel(flag.replace(/^--/, ''))];
  return typeof value === 'string' ? value : undefined;
}

/** Asks a type's questions, each answered by its flag when given. */
function flagAsker(options: InitOptions, asker: Asker): FlagAsker {
  return {
    input: (q) => answer(asker, given(options, q.flag), q),
    choose: (q) => choose(asker, given(options, q.flag), q),
  };
}

async function gatherAnswers(options: InitOptions, asker: Asker, dir: string): Promise<InitAnswers> {
  const name = await answer(asker, options.name, {
    flag: '--name',
    message: 'Rollout name (it keys state and history)',
    suggest: toName(basename(dir)),
    validate: (v) => (new RegExp(NAME_PATTERN).test(v) ? undefined : 'use lower-case letters, digits and dashes, e.g. checkout-v2'),
  });
  const target = await askTarget(options, asker, name);
  const stages = await askStages(options, asker);
  const bake = await answer(asker, options.bake, {
    flag: '--bake',
    message: 'Bake time: how long each stage must stay healthy before the next',
    default: '30m',
    validate: (v) => (parseDuration(v) === undefined ? 'expected a duration such as 30m, 2h or 48h' : undefined),
  });
  const offered = sourceKinds.all().filter(offeredByInit);
  const sourceType = await choose(asker, options.source, {
    flag: '--source',
    message: 'Where do the metrics come from?',
    suggest: offered[0]?.type,
    choices: [...offered.map((kind) => ({ value: kind.type, name: kind.init.label })), { value: 'none', name: 'none for now (stages advance on bake time alone)' }],
  });
  const kind = offered.find((k) => k.type === sourceType);
  if (!kind) return { name, target, stages, bake, metrics: [] };
  const url = await answer(asker, options.sourceUrl, { flag: '--source-url', ...kind.init.url, validate: checkUrl });
  const tokenEnv = optional(await answer(asker, options.sourceTokenEnv, { flag: '--source-token-env', message: 'Environment variable holding a bearer token for the metrics source (empty: none)', default: '', validate: checkOptionalVariable }));
  const ids = Object.keys(COMMON_METRICS) as CommonMetricId[];
  const picked = await pick(asker, options.metrics, {
    flag: '--metrics',
    message: 'Which metrics judge the canary?',
    choices: ids.map((id) => ({ value: id, name: COMMON_METRICS[id].label })),
    default: ids,
  });
  const metrics: MetricAnswer[] = [];
  for (const id of picked) metrics.push(await askLimits(options, asker, id, kind.init.queries[id].unit));
  return { name, target, stages, bake, source: { kind, url, tokenEnv }, metrics };
}

async function askTarget(options: InitOptions, asker: Asker, name: string): Promise<InitAnswers['target']> {
  const offered = targetKinds.all().filter(offeredByInit);
  const type = await choose(asker, options.target, {
    flag: '--target',
    message: 'How is the percentage applied?',
    choices: offered.map((kind) => ({ value: kind.type, name: `${kind.type}: ${kind.description}` })),
  });
  const kind = offered.find((k) => k.type === type);
  if (!kind) throw new Error(`no target type ${type}`);
  return { type, ...(await kind.init.ask(flagAsker(options, asker), { name })) };
}

const PRESET_STAGES = '10,25,50,75,100';

async function askStages(options: InitOptions, asker: Asker): Promise<number[]> {
  const custom: Question = { flag: '--stages', message: 'Stages: ascending percentages, comma-separated, ending at 100', validate: (v) => parseStages(v).problem };
  let list = options.stages;
  if (list === undefined) {
    list = await asker.select({
      flag: '--stages',
      message: 'Stages',
      default: PRESET_STAGES,
      choices: [
        { value: PRESET_STAGES, name: '10 → 25 → 50 → 75 → 100' },
        { value: '10,50,100', name: '10 → 50 → 100' },
        { value: 'custom', name: 'my own list' },
      ],
    });
    if (list === 'custom') list = await asker.input(custom);
  }
  const { stages, problem } = parseStages(list);
  if (problem) throw new UsageError(`--stages ${JSON.stringify(list)}: ${problem}`, `e.g. --stages ${PRESET_STAGES}`);
  return stages;
}

/** Parses "10, 25, 100" into stages, or says what is wrong with it. */
function parseStages(text: string): { stages: number[]; problem?: string } {
  const stages = text.split(',').map((s) => Number(s.trim()));
  if (stages.some((s) => !Number.isInteger(s) || s < 1 || s > 100)) return { stages, problem: 'each stage is a whole percentage from 1 to 100' };
  if (stages.some((s, i) => i > 0 && s <= (stages[i - 1] ?? 0))) return { stages, problem: 'stages must go up' };
  if (stages[stages.length - 1] !== 100) return { stages, problem: 'the last stage must be 100' };
  return { stages };
}

async function askLimits(options: InitOptions, asker: Asker, id: CommonMetricId, unit: MetricUnit): Promise<MetricAnswer> {
  const common = COMMON_METRICS[id];
  // The plan loader's own rules; their warnings are printed once the plan is checked as a whole.
  const limitProblem = (texts: { warning?: string; critical?: string }, field: 'warning' | 'critical') => {
    const error = checkLimits(texts, unit, false).findings.find((f) => f.field === field && f.severity === 'error');
    return error && `${error.message} (${error.hint})`;
  };
  const warning = await answer(asker, given(options, `--${common.flag}-warning`), {
    flag: `--${common.flag}-warning`,
    message: `${capitalise(common.label)}: warning (holds the stage)`,
    default: common.warning,
    validate: (v) => limitProblem({ warning: v }, 'warning'),
  });
  const critical = await answer(asker, given(options, `--${common.flag}-critical`), {
    flag: `--${common.flag}-critical`,
    message: `${capitalise(common.label)}: critical (rolls back)`,
    default: common.critical,
    // A mixed-up pair may be the warning's fault; the hint names which.
    validate: (v) => limitProblem({ critical: v }, 'critical') ?? limitProblem({ warning, critical: v }, 'critical') ?? limitProblem({ warning, critical: v }, 'warning'),
  });
  return { id, warning, critical };
}

/** A valid rollout name from a directory name ("My App" → "my-app"). */
function toName(text: string): string | undefined {
  const name = text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return name === '' ? undefined : name;
}

function camel(kebab: string): string {
  return kebab.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The schema header's target: the schema shipped with this copy of rollout, relative to the plan,
 * so editors find it offline.
 */
function schemaReference(planDir: string): string {
  const schema = packageFile(join('schema', 'rollout-plan.schema.json'));
  if (schema) {
    const path = relative(planDir, schema);
    return path.startsWith('.') || path.startsWith('/') ? path : `./${path}`;
  }
  return './node_modules/rollout-cli/schema/rollout-plan.schema.json';
}

function report(answers: InitAnswers, file: string, variables: string[], options: InitOptions, ctx: CommandContext): void {
  const unset = variables.filter((v) => !ctx.env[v]);
  if (options.json) {
    ctx.out.printJson(
      initDocument({ file, name: answers.name, stages: answers.stages, bake: answers.bake, target: answers.target.type, source: answers.source?.kind.type ?? null, metrics: answers.metrics, variables, unset }),
    );
    return;
  }
  const metrics = answers.source ? `${answers.metrics.length} metric${answers.metrics.length === 1 ? '' : 's'} from ${answers.source.kind.type}` : 'no metrics';
  const arg = file === 'rollout.yaml' ? '' : ` ${file}`;
  ctx.out.print(`${ctx.out.color.green('wrote')} ${file}: ${answers.name}, stages ${answers.stages.join(' → ')}%, bake ${answers.bake}, ${metrics}, ${answers.target.type} target`);
  ctx.out.print('next:');
  for (const v of unset) ctx.out.print(`  export ${v}=…     # read from the environment when the plan loads`);
  ctx.out.print(`  rollout validate${arg}`);
  ctx.out.print(`  rollout status${arg}`);
  ctx.out.print(`  rollout advance${arg}     # applies the first stage (${answers.stages[0]}%)`);
}
