/** The exit codes of SPEC §4, defined once. Only src/main.ts turns them into a process exit. */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  invalid: 2,
  held: 3,
  critical: 4,
  conflict: 5,
  targetFailed: 6,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected failure: carries its exit code and a hint that says what to do next. */
export class RolloutError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** The message with its times in UTC, for --utc; the same message where it shows no time. */
  inUtc(): string {
    return this.message;
  }
}

/** One problem found in a plan, located in its file. */
export interface PlanProblem {
  file: string;
  line: number;
  col: number;
  message: string;
  hint?: string;
}

/** Formats a problem as `file:line:col: message (hint)`. */
export function formatProblem(p: PlanProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}${p.hint ? ` — ${p.hint}` : ''}`;
}

/** The plan is invalid; every problem found is listed (exit 2). */
export class PlanError extends RolloutError {
  constructor(readonly problems: PlanProblem[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in the plan:\n` +
        problems.map((p) => `  ${formatProblem(p)}`).join('\n'),
      ExitCode.invalid,
      'fix the lines named above, then run `rollout validate` again',
    );
  }
}

/** A RolloutError class whose instances all exit with `exitCode`; each error below is one. */
function failingWith(exitCode: ExitCode) {
  return class extends RolloutError {
    constructor(message: string, hint?: string) {
      super(message, exitCode, hint);
    }
  };
}

/** Bad command-line usage, or a prompt needed where none can be shown (exit 2). */
export class UsageError extends failingWith(ExitCode.invalid) {}

/** Another command holds the rollout's lock, or state and target disagree (exit 5). */
export class ConflictError extends failingWith(ExitCode.conflict) {}

/** Applying or reading the target failed; nothing was recorded as applied (exit 6). */
export class TargetError extends failingWith(ExitCode.targetFailed) {}

/** The shared state store could not be reached or written (exit 6: nothing was applied). */
export class StateStoreError extends failingWith(ExitCode.targetFailed) {}

/**
 * SIGINT, SIGTERM or SIGHUP (or a closed output pipe) stopped the command after it left target
 * and state in agreement (exit 130). Printed as it is, not as an error: someone asked for it.
 */
export class InterruptedError extends RolloutError {
  constructor(message = 'interrupted') {
    super(message, ExitCode.interrupted);
  }
}

/** The command's stdout or stderr closed (`rollout run | head -2`): it stops as an interrupt does. */
export class OutputClosedError extends InterruptedError {}

/** Ctrl-C (or a signal) at a prompt: the command stops before changing anything (exit 130). */
export class CancelledError extends InterruptedError {}

/**
 * The operator answered "no" to a confirmation: a deliberate decline, not bad usage. Exit 3, as
 * for a held rollout: the rollout stays where it is, and `rollout advance && …` does not go on.
 */
export class DeclinedError extends failingWith(ExitCode.held) {
  constructor(what = 'not confirmed') {
    super(`${what}; nothing changed`);
  }
}

const commitFailures = new WeakSet<object>();

/** Marks `err` as a failed change of the target: its own exit code stands even when a signal arrived meanwhile. */
export function markCommitFailure<E>(err: E): E {
  if (typeof err === 'object' && err !== null) commitFailures.add(err);
  return err;
}

/** True for an error marked by markCommitFailure. */
export function isCommitFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && commitFailures.has(err);
}

/**
 * The stored state cannot be read (invalid JSON or the wrong shape). Exit 1: a person has to look,
 * but `rollback --emergency` overwrites state without reading it, so the way back stays open.
 */
export class StateCorruptError extends RolloutError {
  /** `aside` is how to get the bad state out of the way, e.g. "move .rollout/x.json aside". */
  constructor(message: string, aside: string) {
    super(message, ExitCode.unexpected, `\`rollout rollback --emergency\` still works; or ${aside}`);
  }
}
