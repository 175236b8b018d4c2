/**
 * What `rollout --help` says besides the commands: their groups, the exit codes (SPEC §4), the
 * environment variables a user sets, and where the docs are. Kept as data, so a test can check the
 * help against it and the README says the same.
 */
import { Help, type Command, type Option } from 'commander';
import { packageFile } from '../package-file.js';

/** The help's command groups, in the order shown. */
export const HELP_GROUPS = {
  start: 'Getting started:',
  plans: 'Plans:',
  rolling: 'Rolling out:',
  inspecting: 'Inspecting:',
  emergency: 'Rolling back and emergencies:',
  setup: 'Setup:',
} as const;

/** Which group each command is listed under (commands not named here go under Setup). */
export const COMMAND_GROUPS: Record<string, keyof typeof HELP_GROUPS> = {
  demo: 'start',
  init: 'start',
  validate: 'plans',
  schema: 'plans',
  advance: 'rolling',
  run: 'rolling',
  hold: 'rolling',
  resume: 'rolling',
  status: 'inspecting',
  check: 'inspecting',
  list: 'inspecting',
  history: 'inspecting',
  report: 'inspecting',
  rollback: 'emergency',
  abort: 'emergency',
};

/**
 * Argo Rollouts verbs with no clean counterpart here, and what to run instead. (`promote`,
 * `pause` and `abort` do map: they are commands or aliases.)
 */
export const UNMAPPED_VERBS: Record<string, string> = {
  undo: "Argo's `undo` redeploys an earlier revision; rollout moves traffic, not versions: `rollout rollback` lowers exposure (`--to previous` for the stage before, `rollout abort` for 0 %)",
  retry: "Argo's `retry` restarts an aborted rollout; here `rollout advance` (or `rollout run`) carries on from where the rollout stands",
  get: 'to see a rollout, run `rollout status` (`--watch` to follow it) or `rollout list` for all of them',
};

/** Exit codes (SPEC §4), as the help lists them. */
export const EXIT_CODES: readonly [number, string][] = [
  [0, 'success (valid, healthy, advanced, complete, rolled back as asked)'],
  [1, 'unexpected error (rerun with ROLLOUT_DEBUG=1), unreadable state, or output that could not be written'],
  [2, 'invalid usage or plan'],
  [3, 'held (warning, no data, baking, paused, --timeout), or "no" at a prompt'],
  [4, 'critical, or rolled back by `run`'],
  [5, 'lock held by another command, or drift between state and target'],
  [6, 'the target (or the state database) failed; nothing recorded'],
  [130, 'interrupted (Ctrl-C, SIGTERM, SIGHUP, pipe closed); nothing half-applied'],
];

/** Environment variables a user sets, as the help lists them. */
export const ENVIRONMENT: readonly [string, string][] = [
  ['ROLLOUT_STATE_URL', 'postgres://… shared state store (as --state)'],
  ['ROLLOUT_ACTOR', 'who history and locks name (default: CI job or user@host)'],
  ['ROLLOUT_LOCK_LEASE_MS', 'lock lease, once its holder stops (default 60000)'],
  ['ROLLOUT_REQUEST_WAIT_MS', 'how long asking a running `run` waits (default 30000)'],
  ['ROLLOUT_DEBUG', 'print stack traces of unexpected errors'],
  ['ROLLOUT_CODE_CACHE', 'off: keep no compiled code between runs (README: start-up)'],
  ['XDG_CACHE_HOME', 'the code cache lives in $XDG_CACHE_HOME/rollout (default ~/.cache/rollout)'],
  ['CI', 'set: no prompts; answers come from flags (e.g. --yes)'],
  ['NO_COLOR', 'no colours (FORCE_COLOR=1: colours even when piped)'],
  ['GITHUB_ACTIONS', 'warnings and criticals print as workflow annotations'],
  ['GITHUB_STEP_SUMMARY', '`report` is appended to this file'],
  ['${VAR}', 'what a plan reads from the environment (secrets, URLs)'],
];

/** Where the documentation is: the README shipped with this install. */
export function docsPath(): string {
  return packageFile('README.md') ?? 'README.md of the rollout package';
}

/** The text after the command list of `rollout --help`. */
export function helpEpilogue(): string {
  const table = (rows: readonly [string | number, string][]) => {
    const width = Math.max(...rows.map(([key]) => String(key).length));
    return rows.map(([key, text]) => `  ${String(key).padEnd(width)}  ${text}`).join('\n');
  };
  return ['', 'Exit codes:', table(EXIT_CODES), '', 'Environment:', table(ENVIRONMENT), '', `Docs: ${docsPath()}`, 'Each command: `rollout <command> --help` (its options and an example)', ''].join('\n');
}

const plainHelp = new Help();
const GROUP_ORDER: string[] = Object.values(HELP_GROUPS);

/** Help groups in HELP_GROUPS order (commander lists them as first met); other groups keep their place before them. */
export function groupItems<T extends Command | Option>(unsorted: T[], visible: T[], getGroup: (item: T) => string): Map<string, T[]> {
  const groups = plainHelp.groupItems(unsorted, visible, getGroup);
  const rank = (heading: string) => GROUP_ORDER.indexOf(heading);
  return new Map([...groups].sort(([a], [b]) => rank(a) - rank(b)));
}

/** Option descriptions without "(default: false)": an unset switch is off, saying so is noise. */
export function optionDescription(option: Option): string {
  if (option.defaultValue !== false) return plainHelp.optionDescription(option);
  return plainHelp.optionDescription(Object.assign(Object.create(option) as Option, { defaultValue: undefined }));
}

/** What `rollout completion` does, in the help. */
export const COMPLETION_SUMMARY = 'print the shell completion script: bash, zsh or fish (see the README to install it)';

/** The example under `rollout completion --help`. */
export const COMPLETION_EXAMPLE = `
Example:
  rollout completion bash > ~/.local/share/bash-completion/completions/rollout
  rollout completion zsh > "\${fpath[1]}/_rollout"
  rollout completion fish > ~/.config/fish/completions/rollout.fish
`;
