/** What every command receives: options common to all commands and the side effects it may use. */
import type { Output } from './cli/output.js';
import type { Progress } from './cli/progress.js';
import type { Prompter } from './cli/prompter.js';
import type { Clock } from './clock.js';
import type { ExitCode } from './errors.js';
import type { TargetConfig } from './plan/types.js';
import type { CreateStoreOptions } from './state/create-store.js';
import type { StateStore } from './state/types.js';
import type { TargetOptions } from './targets/create-target.js';
import type { Target } from './targets/target.js';

/** Options every command takes (SPEC §4). */
export interface CommonOptions {
  /** Plan path (default ./rollout.yaml). */
  plan: string;
  json: boolean;
  /** Where state lives instead of `.rollout/` beside the plan. */
  stateDir?: string;
}

/** The world, as a command sees it: injected so tests can drive commands without a terminal. */
export interface CommandContext {
  out: Output;
  prompter: Prompter;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** A progress line on stderr for long waits (only on a terminal). */
  progress?: Progress;
  /** Where targets and stores come from; the real ones unless a test swaps one in. */
  world?: World;
}

/** The edges a rollout acts on, for tests that drive commands in-process. */
export interface World {
  createTarget?(config: TargetConfig, options?: TargetOptions): Promise<Target>;
  createStore?(options: CreateStoreOptions): Promise<StateStore>;
}

/** What a command returns; the entry point turns `exitCode` into the process's exit. */
export interface CommandResult {
  exitCode: ExitCode;
}
