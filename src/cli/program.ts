/**
 * The command-line wiring: argv → a command's options. Commander appears only here; each command
 * module is imported when its command runs, so start-up loads just what that command needs.
 */
import { Command, CommanderError } from 'commander';
import { systemClock } from '../clock.js';
import type { CommandContext, CommandResult } from '../commands/context.js';
import { ExitCode, UsageError } from '../errors.js';
import { createOutput, wantsColor } from './output.js';
import { canPrompt, createPrompter } from './prompter.js';

export interface ProgramEnv {
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  version: string;
}

// Commander hands over untyped options; each command declares the options type it expects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Action = (options: any, ctx: CommandContext) => Promise<CommandResult>;

/** Builds the commander program; `run` receives each parsed command (tests intercept it). */
export function buildProgram(version: string, run: (action: Action, options: Record<string, unknown>) => Promise<void>): Command {
  const program = new Command('rollout')
    .description('Progressive rollouts from a YAML plan: apply a percentage, watch the metrics, advance, hold or roll back.')
    .version(version, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    // The entry point prints commander's errors (with a hint), so commander itself stays quiet.
    .configureOutput({ outputError: () => undefined });

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

  planCommand('validate', 'load and check the plan; problems name file:line:col', 'rollout validate rollout-plans/checkout-canary.yaml').action(
    action(async () => (await import('../commands/validate.js')).validateCommand),
  );

  program
    .command('schema')
    .description("print the plan's JSON Schema (for editor completion)")
    .option('--no-color', 'no colours')
    .addHelpText('after', '\nExample:\n  rollout schema > schema/rollout-plan.schema.json\n')
    .exitOverride()
    .action(async (opts: Record<string, unknown>) => {
      await run(async (_o, ctx) => (await import('../commands/schema.js')).schemaCommand(ctx), { ...opts, plan: '' });
    });

  return program;
}

/** Parses argv, runs the chosen command and returns its exit code. */
export async function runProgram(argv: string[], world: ProgramEnv): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = buildProgram(world.version, async (action, options) => {
    const isTTY = Boolean(process.stdout.isTTY);
    const out = createOutput({ json: Boolean(options.json), color: wantsColor(options.color as boolean | undefined, world.env, isTTY), isTTY });
    const ctx: CommandContext = {
      out,
      prompter: createPrompter(canPrompt(world.env, process.stdin.isTTY)),
      clock: systemClock,
      env: world.env,
      signal: world.signal,
    };
    exitCode = (await action(options, ctx)).exitCode;
  });
  if (argv.length === 0) {
    program.outputHelp();
    return ExitCode.ok;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; anything else commander rejects is bad usage.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.ok;
      throw new UsageError(err.message.replace(/^error: /, ''), 'run `rollout --help` for the commands and their options');
    }
    throw err;
  }
  return exitCode;
}

