/**
 * Commands run in-process, for testing their logic: a CommandContext with captured output, the
 * fake clock, a prompter that cannot ask, and a `world` whose target lives in memory (FakeTarget).
 * State and history use the real file store in a temp dir; metrics come from a real local service.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { memoryOutput } from '../../src/cli/output.js';
import { createPrompter } from '../../src/cli/prompter.js';
import type { CommandContext, CommandResult } from '../../src/context.js';
import { RolloutError } from '../../src/errors.js';
import type { HistoryEvent, RolloutState } from '../../src/state/types.js';
import { FakeTarget } from '../rollout/fake-target.js';
import { FakeClock } from './fake-clock.js';
import { servicePlan, startFakeService, type FakeService } from './fake-service.js';

/** What one command run gave: its exit code (a thrown RolloutError's too), output and error. */
export interface Outcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The RolloutError the command threw, if it did. */
  error?: RolloutError;
}

/** Options every command takes, filled in by the harness unless a test sets them. */
interface BaseOptions {
  plan: string;
  json: boolean;
}

/** A fresh harness for each test of the file: started before it, closed after it. */
export function harnessPerTest(options: PlanOptions = {}): Harness {
  const current = {} as Harness;
  beforeEach(async () => {
    Object.assign(current, await startHarness(options));
  });
  afterEach(() => current.close());
  return current;
}

/** Runs commands in-process against one plan: same dir, clock, target and service every time. */
export interface Harness {
  planFile: string;
  clock: FakeClock;
  target: FakeTarget;
  /** The metrics and flag service (only its metrics route is used; the target is `target`). */
  service: FakeService;
  /** Runs `command` with the plan and `--json` off unless given; `env` adds to the harness's. */
  run<O extends BaseOptions>(command: (options: O, ctx: CommandContext) => Promise<CommandResult>, options?: Partial<O>, extra?: RunExtra): Promise<Outcome>;
  /** The context a run would get, for tests that drive a command by hand (e.g. abort it). */
  context(extra?: RunExtra): CommandContext & { out: ReturnType<typeof memoryOutput> };
  /** Rewrites the plan with other options (another bake, other stages), on top of the harness's. */
  writePlan(options: PlanOptions): void;
  history(): HistoryEvent[];
  state(): RolloutState | undefined;
  close(): Promise<void>;
}

/** Per run: more environment, a terminal on stdout, an abort signal. */
export interface RunExtra {
  env?: NodeJS.ProcessEnv;
  isTTY?: boolean;
  signal?: AbortSignal;
}

/** The plan: servicePlan's metrics (warning 1 %/1 s, critical 5 %/3 s), stages 10, 50, 100 unless `options` say otherwise. */
export type PlanOptions = Parameters<typeof servicePlan>[1];

/** Starts the metrics service and writes its plan into a fresh temp dir. */
export async function startHarness(options: PlanOptions = {}): Promise<Harness> {
  const service = await startFakeService();
  const dir = mkdtempSync(join(tmpdir(), 'rollout-inproc-'));
  const planFile = join(dir, 'rollout.yaml');
  const writePlan = (more: PlanOptions = {}) => writeFileSync(planFile, servicePlan(service, { stages: '[10, 50, 100]', ...options, ...more }));
  writePlan();
  const clock = new FakeClock();
  const target = new FakeTarget();
  const readLines = (file: string) => {
    try {
      return readFileSync(join(dir, '.rollout', file), 'utf8');
    } catch {
      return undefined;
    }
  };
  const context = (extra: RunExtra = {}) => ({
    out: memoryOutput({ isTTY: extra.isTTY ?? false }),
    prompter: createPrompter(() => false),
    clock,
    env: { ROLLOUT_ACTOR: 'alice', APP_TOKEN: 'app-secret-token', ...extra.env },
    signal: extra.signal ?? new AbortController().signal,
    world: { createTarget: async () => target },
  });
  return {
    planFile,
    clock,
    target,
    service,
    context,
    async run(command, options = {}, extra = {}) {
      const ctx = context(extra);
      const outcome = (exitCode: number, error?: RolloutError): Outcome => ({ exitCode, stdout: ctx.out.stdout.join(''), stderr: ctx.out.stderr.join(''), error });
      try {
        const { exitCode } = await command({ plan: planFile, json: false, ...options } as Parameters<typeof command>[0], ctx);
        return outcome(exitCode);
      } catch (err) {
        if (err instanceof RolloutError) return outcome(err.exitCode, err);
        throw err;
      }
    },
    writePlan,
    history: () => (readLines('e2e.history.jsonl') ?? '').split('\n').filter(Boolean).map((line) => JSON.parse(line) as HistoryEvent),
    state: () => {
      const text = readLines('e2e.json');
      return text === undefined ? undefined : (JSON.parse(text) as RolloutState);
    },
    close: () => service.close(),
  };
}

/** `action from→to` for each history event: the story of a rollout in one comparable list. */
export function storyOf(events: HistoryEvent[]): string[] {
  return events.map((e) => `${e.action} ${e.from}→${e.to}`);
}

/** The percentages applied to `target`, in order, successful or not. */
export function appliesTo(target: FakeTarget): number[] {
  return target.calls.filter((c) => c.startsWith('apply ')).map((c) => Number(c.slice('apply '.length)));
}

/**
 * Holds the target's next apply, once it has begun, until `release` is called: a slow target,
 * with the command's lock held for exactly as long as the test needs.
 */
export function holdNextApply(target: FakeTarget): { started: Promise<void>; release: () => void } {
  let release!: () => void;
  let begin!: () => void;
  const started = new Promise<void>((resolve) => (begin = resolve));
  const gate = new Promise<void>((resolve) => (release = resolve));
  target.duringApply = () => {
    target.duringApply = undefined;
    begin();
    return gate;
  };
  return { started, release };
}
