/**
 * The command-line wiring: argv → a command's options. Commander appears only here; each command
 * module is imported when its command runs, so start-up loads just what that command needs.
 */
import { Command, CommanderError } from 'commander';
import { systemClock } from '../clock.js';
import type { CommandContext, CommandResult } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';
import { stderr, stdout } from '../stdio.js';
import { COMMAND_GROUPS, COMPLETION_EXAMPLE, COMPLETION_SUMMARY, groupItems, helpEpilogue, HELP_GROUPS, optionDescription, UNMAPPED_VERBS } from './help-text.js';
import { createProgress } from './progress.js';
import { canPrompt, createPrompter } from './prompter.js';

export interface ProgramEnv {
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  version: string;
}

// Commander hands over untyped options; each command declares the options type it expects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Action = (options: any, ctx: CommandContext) => Promise<CommandResult>;

/**
 * Builds the commander program; `run` receives each parsed command (tests intercept it). The
 * `completion` command listed is a stand-in, replaced by the completion library's own when it runs.
 * With `only`, the command the command line names, the program has that command alone: declaring
 * every other one cost each start about 1 ms.
 */
export function buildProgram(version: string, run: (action: Action, options: Record<string, unknown>) => Promise<void>, listCompletion = true, only?: string): Command {
  const program = new Command('rollout')
    .description('Progressive rollouts from a YAML plan: apply a percentage, watch the metrics, advance, hold or roll back.')
    .version(version, '-V, --version')
    // Global: recognised before or after the command (`rollout --utc history`, `rollout history --utc`).
    .option('--utc', 'show times in UTC instead of local time (human output; --json is always UTC)')
    .showSuggestionAfterError(true)
    .exitOverride()
    // The entry point prints commander's errors (with a hint), so commander itself stays quiet.
    .configureOutput({ outputError: () => undefined, writeOut: (text) => stdout.write(text), writeErr: (text) => stderr.write(text) })
    // Set before any command is added: subcommands inherit it.
    .configureHelp({ optionDescription, groupItems })
    .addHelpText('after', helpEpilogue);

  /** A command taking the plan path and the common options. */
  const planCommand = (name: string, summary: string, example: string) =>
    program
      .command(name)
      .description(summary)
      .argument('[plan]', 'plan file', './rollout.yaml')
      .option('--json', 'machine-readable output', false)
      .option('--state-dir <dir>', 'where state and history live (default: .rollout/ beside the plan)')
      .option('--no-color', 'no colours (NO_COLOR is honoured too)')
      .addHelpText('after', `\nExample:\n  ${example}\n`)
      .exitOverride();

  const action = (load: () => Promise<Action>) =>
    async function (this: Command, plan: string | undefined, opts: Record<string, unknown>) {
      await run(await load(), { ...opts, plan: plan ?? './rollout.yaml' });
    };

  /** A plan command that reads or changes state: adds --state <url>. */
  const stateCommand = (name: string, summary: string, example: string) =>
    planCommand(name, summary, example).option('--state <url>', 'postgres://… state store (overrides the plan; also ROLLOUT_STATE_URL)');

  /** Each command's declaration, in the order of --help. */
  const declarations: Record<string, () => Command> = {
    validate: () =>
      planCommand('validate', 'load and check the plan; problems name file:line:col', 'rollout validate rollout-plans/docflow-canary.yaml')
        .option('--strict-env', 'an unset ${VAR} is an error, not a warning', false)
        .action(action(async () => (await import('../commands/validate.js')).validateCommand)),
    schema: () =>
      program
        .command('schema')
        .description("print the plan's JSON Schema (for editor completion)")
        .option('--no-color', 'no colours')
        .addHelpText('after', '\nExample:\n  rollout schema > schema/rollout-plan.schema.json\n')
        .exitOverride()
        .action(async (opts: Record<string, unknown>) => {
          await run(async (_o, ctx) => (await import('../commands/schema.js')).schemaCommand(ctx), { ...opts, plan: '' });
        }),
    check: () =>
      stateCommand('check', 'judge every metric once, change nothing (exit 0 healthy, 3 hold, 4 critical)', 'rollout check rollout.yaml --json').action(
        action(async () => (await import('../commands/check.js')).checkCommand),
      ),
    status: () =>
      stateCommand('status', 'stage, percent, bake, each metric against its limits, verdict and next action', 'rollout status --watch')
        .option('--watch', 'refresh in place until interrupted', false)
        .option('--interval <duration>', 'refresh period for --watch (default: the plan\'s analysis.interval)')
        .option('--exit-code', 'exit like `check`: 0 healthy, 3 hold, 4 critical', false)
        .action(action(async () => (await import('../commands/status.js')).statusCommand)),
    advance: () =>
      stateCommand('advance', 'judge now and apply the next stage when healthy and baked', 'rollout advance --yes')
        .alias('promote')
        .option('-y, --yes', 'do not ask for confirmation', false)
        .option('--force', 'override a hold (needs --reason; recorded as force)', false)
        .option('--reason <text>', 'why (with --force)')
        .option('--dry-run', 'show what would happen, change nothing', false)
        .option('--adopt', "on drift, take the target's percentage as the truth", false)
        .action(action(async () => (await import('../commands/advance.js')).advanceCommand)),
    hold: () =>
      stateCommand('hold', 'pause the rollout by hand', 'rollout hold --reason "investigating p95 spike"')
        .alias('pause')
        .option('--reason <text>', 'why (required)')
        .action(action(async () => (await import('../commands/hold.js')).holdCommand)),
    resume: () =>
      stateCommand('resume', 'lift a hold made by hand', 'rollout resume').action(action(async () => (await import('../commands/resume.js')).resumeCommand)),
    rollback: () =>
      withRollbackOptions(
        stateCommand('rollback', 'roll back to rollback.to (or --to N); --emergency: 0 % now, no questions', 'rollout rollback --emergency')
          .option('--emergency', 'set 0 % at once: no prompt, no metric reads, takes over the lock, runs emergency actions', false)
          .option('--to <percent>', 'where to roll back to: 0, previous, or a stage percentage below the current one')
          .option('--call-timeout <duration>', 'with --emergency: deadline of each target call (default 10s)')
          .option('--name <rollout>', 'with --emergency: the rollout by name, from its recorded target, without the plan (finds it in --state-dir, ./.rollout or --state)')
          .action(action(async () => (await import('../commands/rollback.js')).rollbackCommand)),
      ),
    // Argo's `abort` reverts every step: the stable version gets all traffic again.
    abort: () =>
      withRollbackOptions(
        stateCommand('abort', "roll back to 0 %, every stage reverted (as Argo Rollouts' abort; = `rollback --to 0`)", 'rollout abort --reason "error budget burnt"').action(
          action(async () => {
            const { rollbackCommand } = await import('../commands/rollback.js');
            return (options, ctx) => rollbackCommand({ ...options, to: '0' }, ctx);
          }),
        ),
      ),
    run: () =>
      stateCommand('run', 'unattended: apply, bake, judge, advance, hold or roll back until done (for CI)', 'rollout run --until 50 --timeout 2h')
        .option('--until <percent>', 'stop after the stage with this percentage')
        .option('--timeout <duration>', 'stop (exit 3, state kept) after this long')
        .option('--wait-approval', 'at an approval stage, keep polling until a human runs `rollout advance`', false)
        .option('--adopt', "on drift, take the target's percentage as the truth", false)
        .option('--report-html <file>', 'when the run ends, write the HTML report (charts) to this file, e.g. for a CI artifact')
        .action(action(async () => (await import('../commands/run.js')).runCommand)),
    list: () =>
      program
        .command('list')
        .description('every rollout in the state dir or database: stage, percent, status, time in stage, lock holder (exit: the worst)')
        .option('--json', 'machine-readable output', false)
        .option('--state-dir <dir>', 'the state directory (default: ./.rollout)')
        .option('--state <url>', 'postgres://… state store (also ROLLOUT_STATE_URL)')
        .option('--call-timeout <duration>', 'deadline of each target read, to spot drift (default 5s)')
        .option('--no-color', 'no colours')
        .addHelpText('after', '\nExample:\n  rollout list --state "$ROLLOUT_STATE_URL" --json\n')
        .exitOverride()
        .action(async (opts: Record<string, unknown>) => {
          await run(async (o, ctx) => (await import('../commands/list.js')).listCommand(o, ctx), { ...opts, plan: '' });
        }),
    history: () =>
      stateCommand('history', 'the events, newest last', 'rollout history --json').action(action(async () => (await import('../commands/history.js')).historyCommand)),
    state: () =>
      program
        .command('state')
        .description('manage where state lives')
        .command('migrate')
        .description("copy a rollout's state and history between stores, e.g. from files to PostgreSQL")
        .argument('[plan]', 'plan file', './rollout.yaml')
        .requiredOption('--to <url>', 'destination: postgres://… (or a directory for files)')
        .option('--from <store>', 'source: file (default), a directory, or postgres://…', 'file')
        .option('--state-dir <dir>', 'the file store directory (default: .rollout/ beside the plan)')
        .option('--json', 'machine-readable output', false)
        .option('--no-color', 'no colours')
        .addHelpText('after', '\nExample:\n  rollout state migrate rollout.yaml --from file --to "$ROLLOUT_STATE_URL"\n')
        .exitOverride()
        .action(action(async () => (await import('../commands/state-migrate.js')).stateMigrateCommand)),
    report: () =>
      stateCommand('report', 'a deployment log per stage (markdown, json or junit), or a page with charts (html)', 'rollout report --format html > rollout.html')
        .option('--format <format>', 'markdown (default) | json (the same as --json) | junit | html')
        .action(action(async () => (await import('../commands/report.js')).reportCommand)),
    init: () =>
      program
        .command('init')
        .description('write a first plan: a wizard in a terminal, or every answer as a flag (scripts, CI)')
        .option('-o, --output <file>', 'where to write the plan', 'rollout.yaml')
        .option('--force', 'overwrite the file if it exists', false)
        // One option per question follows, added by runProgram (src/cli/init-options.ts) when init is what runs.
        .addHelpText(
          'after',
          '\nExample:\n  rollout init --name checkout-v2 --target http --flag-url https://flags.example.com/api/flags/checkout \\\n    --source prometheus --source-url http://127.0.0.1:9090\n',
        )
        .exitOverride()
        .action(async (opts: Record<string, unknown>) => {
          await run(async (o, ctx) => (await import('../commands/init.js')).initCommand(o, ctx), { ...opts, plan: '' });
        }),
    demo: () =>
      program
        .command('demo')
        .description('try it first: real `rollout run`s against a simulated service, healthy then rolled back (<1 min)')
        .option('--scenario <name>', 'healthy | bad | flaky | all (default: healthy, then bad)')
        .option('--keep', 'afterwards, leave the service up and print how to point status/advance at it (Ctrl-C ends)', false)
        .option('--json', 'one JSON object per line: the demo\'s own and every run event', false)
        .option('--no-color', 'no colours')
        .addHelpText('after', '\nExample:\n  rollout demo --scenario flaky\n')
        .exitOverride()
        .action(async (opts: Record<string, unknown>) => {
          await run(async (o, ctx) => (await import('../commands/demo.js')).demoCommand(o, ctx), { ...opts, plan: '' });
        }),
  };
  // Any other word (an alias, a typo commander suggests a command for) needs every command.
  const alone = only !== undefined && Object.hasOwn(declarations, only) ? only : undefined;
  for (const [name, declare] of Object.entries(declarations)) if (alone === undefined || alone === name) declare();

  if (listCompletion && alone === undefined) {
    program
      .command('completion')
      .description(COMPLETION_SUMMARY)
      .argument('<shell>', 'bash | zsh | fish')
      .addHelpText('after', COMPLETION_EXAMPLE)
      .exitOverride();
  }
  for (const command of program.commands) command.helpGroup(HELP_GROUPS[COMMAND_GROUPS[command.name()] ?? 'setup']);
  program.commandsGroup(HELP_GROUPS.setup).helpCommand('help [command]', 'display help for a command');
  return program;
}

/** Options shared by `rollback` and `abort`. */
function withRollbackOptions(command: Command): Command {
  return command
    .option('-y, --yes', 'do not ask for confirmation', false)
    .option('--reason <text>', 'why, for history and notifications')
    .option('--verify', 'afterwards, watch the metrics for interval × failureLimit and report recovery', false);
}

/**
 * The command commander will surely hand `argv` to: its first word when only the global `--utc`
 * comes before it. Anything else there (`--help`, `--`, an option commander does not know) may
 * make commander print the program's help or take the word as an unknown command, which lists or
 * suggests every command: then undefined, and every command is declared.
 */
export function commandNamed(argv: string[]): string | undefined {
  const first = argv.find((arg) => arg !== '--utc');
  return first === undefined || first.startsWith('-') ? undefined : first;
}

/** Parses argv, runs the chosen command and returns its exit code. */
export async function runProgram(argv: string[], world: ProgramEnv): Promise<number> {
  let exitCode: number = ExitCode.ok;
  // `completion` prints a script; `complete -- <words>` is what the script calls at each Tab.
  const verb = argv.find((arg) => !arg.startsWith('-'));
  const completing = verb === 'completion' || verb === 'complete';
  const program = buildProgram(world.version, async (action, options) => {
    const isTTY = stdout.isTTY;
    // Loaded here, not at the top: `--help` and usage errors never need chalk.
    const { createOutput, wantsColor } = await import('./output.js');
    const out = createOutput({
      json: Boolean(options.json),
      color: wantsColor(options.color as boolean | undefined, world.env, isTTY),
      isTTY,
      utc: Boolean(program.opts().utc),
    });
    const ctx: CommandContext = {
      out,
      prompter: createPrompter(() => canPrompt(world.env, process.stdin.isTTY), world.signal),
      clock: systemClock,
      env: world.env,
      signal: world.signal,
      progress: createProgress(stderr),
    };
    exitCode = (await action(options, ctx)).exitCode;
  }, !completing, commandNamed(argv));
  if (argv.length === 0) {
    program.outputHelp();
    return ExitCode.ok;
  }
  // `init`'s options come from the source and target types' registries: loaded for init alone
  // (and for completing an `init` command line: `rollout complete -- init --na`).
  const init = program.commands.find((command) => command.name() === 'init');
  const completingInit = verb === 'complete' && argv[argv.indexOf('--') + 1] === 'init';
  if (init && (completingInit || argv[0] === 'init' || (argv[0] === 'help' && argv[1] === 'init'))) (await import('./init-options.js')).addInitOptions(init);
  if (completing) (await import('./completion.js')).addCompletion(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; anything else commander rejects is bad usage.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.ok;
      // An Argo Rollouts verb without a counterpart here says what to run instead.
      const unmapped = err.code === 'commander.unknownCommand' ? UNMAPPED_VERBS[argv[0] ?? ''] : undefined;
      if (unmapped) throw new UsageError(`unknown command '${argv[0]}'`, unmapped);
      throw new UsageError(err.message.replace(/^error: /, ''), 'run `rollout --help` for the commands and their options');
    }
    throw err;
  }
  return exitCode;
}

