/**
 * What a target type is made of: its schema piece, how its config is built from the plan, its
 * factory and its questions in `rollout init`. One file per type under src/targets/kinds/,
 * registered in index.ts.
 */
import type { z } from 'zod';
import type { FlagAsker, FlagQuestion } from '../../commands/init-questions.js';
import type { TargetConfig } from '../../plan/types.js';
import type { RetryOptions } from '../../net/retry.js';
import type { Target } from '../target.js';

/** What a command tells the HTTP-speaking targets: where to show waits longer than a second. */
export type TargetOptions = Pick<RetryOptions, 'onWait'>;

/** A target as `rollout init` writes it. */
export interface InitTarget {
  /** The plan's lines from `target:` on, comments included. */
  lines: string[];
  /** The environment variables those lines read (`${VAR}`). */
  variables: string[];
}

/** A target type's questions in `rollout init`; a type without them is not offered there. */
export interface TargetInit {
  /** Every question `ask` may ask, in order: each flag becomes an option of `rollout init`. */
  questions: FlagQuestion[];
  ask(asker: FlagAsker, rollout: { name: string }): Promise<InitTarget>;
}

/**
 * A target type. `Shape` is its schema piece (its keys besides `type`); `Config` what `build`
 * makes of the plan's `target` and `create` receives.
 */
export interface TargetKind<Shape extends z.ZodRawShape = z.ZodRawShape, Config extends TargetConfig = TargetConfig> {
  /** The `type:` a plan writes. */
  type: string;
  /** One line saying where the percentage goes, e.g. "one line of a .env file". */
  description: string;
  /** Its schema piece, imported from a module of its own (as a source type's: sources/kinds/kind.ts). */
  schema(): Promise<Shape>;
  /** The config from a schema-valid `target`; relative paths resolve against `dir`, the plan's directory. */
  build(raw: z.output<z.ZodObject<Shape>>, dir: string): Omit<Config, 'type'>;
  /** The target; implementations are imported here, when a command first needs the target. */
  create(config: Config, options?: TargetOptions): Promise<Target>;
  init?: TargetInit;
}

/** Declares a target type with its own shape and config types, for the registry (which knows neither). */
export function defineTargetKind<Shape extends z.ZodRawShape, Config extends TargetConfig>(kind: TargetKind<Shape, Config>): TargetKind {
  return kind as unknown as TargetKind;
}
