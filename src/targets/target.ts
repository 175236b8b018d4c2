/** A flag actuator: where the rollout percentage lives. Failures throw `TargetError` (exit 6). */
export interface Target {
  /** A short description for messages, e.g. "env-file .env OPENROUTER_ROLLOUT_PERCENTAGE". */
  readonly description: string;
  /** The percentage the target reports now, or undefined when this target cannot be read. */
  read(signal?: AbortSignal): Promise<number | undefined>;
  /** Sets the percentage, then reads it back where possible; a mismatch is a `TargetError`. */
  apply(percent: number, signal?: AbortSignal): Promise<void>;
  /**
   * Ends writes of this target left in flight by other commands (a `set` program that outlived a
   * killed command): every one for the emergency, only those whose command is gone otherwise.
   */
  settle?(which: 'all' | 'orphans'): Promise<void>;
  /** The extra actions of `rollback --emergency` (after the percentage is set to 0). */
  emergency(signal?: AbortSignal): Promise<void>;
}
