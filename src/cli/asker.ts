/**
 * The questions `rollout init` asks and the Asker that answers them: the terminal wizard
 * (cli/init-wizard.ts) or, without a terminal, the flags. Both sides import these types from here.
 */

/** A question, and the flag that answers it without a terminal. */
export interface Question {
  flag: string;
  message: string;
  /** Taken when the flag is not given, in a terminal or not. */
  default?: string;
  /** Offered in a terminal only: a guess a person confirms, never taken silently in CI. */
  suggest?: string;
  /** Returns what is wrong with an answer, or undefined when it is fine. */
  validate?: (value: string) => string | undefined;
}

/** One option of a select or checkbox question. */
export interface Choice<T extends string> {
  value: T;
  name: string;
}

/** A question with a fixed set of answers. */
export interface SelectQuestion<T extends string> extends Question {
  choices: Choice<T>[];
}

/** A question with any number of answers from a fixed set; `default` is what is ticked. */
export interface CheckboxQuestion<T extends string> extends Omit<Question, 'default' | 'suggest' | 'validate'> {
  choices: Choice<T>[];
  default: T[];
}

/** Asks the questions: the terminal wizard, or without a terminal a stand-in that takes defaults. */
export interface Asker {
  input(q: Question): Promise<string>;
  select<T extends string>(q: SelectQuestion<T>): Promise<T>;
  checkbox<T extends string>(q: CheckboxQuestion<T>): Promise<T[]>;
}
