/**
 * `rollout demo`: a whole rollout in under a minute, before anything is configured. It starts the
 * simulated service, writes a demo plan per scenario into a temporary directory and runs the real
 * `rollout run` against it: by default a healthy canary walked to 100 %, then a bad one rolled back.
 * Exit 0 when every run ended as the demo says it will; otherwise 1, saying what differed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoDocument } from '../cli/json-documents.js';
import { writeDemoPlan } from '../demo/demo-plan.js';
import { BAD_FROM_PERCENT, startSimulatedService, type Scenario, type SimulatedService } from '../demo/simulated-service.js';
import { ExitCode, InterruptedError, RolloutError, UsageError } from '../errors.js';
import type { CommandContext, CommandResult } from '../context.js';
import { runCommand } from './run.js';
import { readHistory } from '../rollout/open.js';

/** `rollout demo` options. */
export interface DemoOptions {
  /** One scenario, or `all`; by default healthy, then bad. */
  scenario?: string;
  /** Leave the service up afterwards until interrupted. */
  keep?: boolean;
  json?: boolean;
}

/** What each scenario shows, and how its run must end for the demo to have shown it. */
const SCENARIOS: Record<Scenario, { story: string; exitCode: ExitCode; percent: number; expected: string; shown: string }> = {
  healthy: {
    story: 'a healthy canary: few errors, fast answers, at every stage',
    exitCode: ExitCode.ok,
    percent: 100,
    expected: 'walked to 100% (exit 0)',
    shown: 'the healthy canary reached 100%',
  },
  bad: {
    story: `a bad canary: fine at 10%, then 15% errors from ${BAD_FROM_PERCENT}%`,
    exitCode: ExitCode.critical,
    percent: 0,
    expected: 'rolled back to 0% after two critical polls in a row (exit 4)',
    shown: 'the bad canary was rolled back to 0%',
  },
  flaky: {
    story: 'a flaky canary: healthy, but a burst of errors every 3s shows as one critical poll',
    exitCode: ExitCode.ok,
    percent: 100,
    expected: 'single critical blips ridden out (failureLimit 2), walked to 100% (exit 0)',
    shown: 'the flaky canary rode out its blips to 100%',
  },
};

/** How one scenario's run ended. */
interface Outcome {
  scenario: Scenario;
  plan: string;
  exitCode: number;
  /** The flag as the service has it after the run. */
  percent: number;
  /** Critical polls the run saw without rolling back. */
  criticalBlips: number;
  /** How long the run took, in whole milliseconds (the JSON contract's durations). */
  durationMs: number;
  ok: boolean;
}

/** Runs the demo's scenarios against a simulated service and checks each ended as shown. */
export async function demoCommand(options: DemoOptions, ctx: CommandContext): Promise<CommandResult> {
  const scenarios = chooseScenarios(options.scenario);
  const dir = await mkdtemp(join(tmpdir(), 'rollout-demo-'));
  const service = await startSimulatedService();
  const say = narrator(options, ctx);
  try {
    say({ kind: 'demo-start', url: service.url, flag: service.flagUrl, metrics: service.metricsUrl, summary: service.summaryUrl, dir }, [
      ctx.out.color.bold('rollout demo') + ` — a simulated service on ${service.url}, with a real \`rollout run\` against it`,
      `  flag API  GET/PUT ${service.flagUrl}  { "percentage": n }`,
      `  metrics   ${service.metricsUrl} (Prometheus text) and ${service.summaryUrl} (JSON)`,
      `  traffic   ${service.requestsPerSecond} requests/s, split between canary and stable by the flag`,
    ]);
    const outcomes: Outcome[] = [];
    for (const [i, scenario] of scenarios.entries()) {
      outcomes.push(await runScenario(scenario, `${i + 1}/${scenarios.length}`, { service, dir, json: Boolean(options.json), say }, ctx));
      // Ctrl-C during a run: `run` has left target and state in agreement; the demo stops there.
      if (ctx.signal.aborted) return { exitCode: ExitCode.interrupted };
    }
    const failed = outcomes.filter((o) => !o.ok);
    const passed = failed.length === 0;
    const last = outcomes[outcomes.length - 1];
    // With --keep, Ctrl-C is how the demo ends, not an interruption.
    if (options.keep && last) await keepServing(service, last, say, ctx);
    say(
      { kind: 'demo-end', ok: passed, outcomes },
      passed
        ? ['', ctx.out.color.green.bold('demo passed: ') + outcomes.map((o) => SCENARIOS[o.scenario].shown).join('; '), 'next: `rollout init` writes a plan for your own service']
        : ['', ctx.out.color.red.bold('demo failed: ') + failed.map(describeMiss).join('; ')],
    );
    return { exitCode: passed ? ExitCode.ok : ExitCode.unexpected };
  } finally {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function chooseScenarios(scenario: string | undefined): Scenario[] {
  if (scenario === undefined) return ['healthy', 'bad'];
  if (scenario === 'all') return Object.keys(SCENARIOS) as Scenario[];
  if (Object.hasOwn(SCENARIOS, scenario)) return [scenario as Scenario];
  throw new UsageError(`--scenario ${scenario} is not a scenario`, `use one of: ${Object.keys(SCENARIOS).join(', ')}, all`);
}

/** What every run of the demo shares. */
interface Sandbox {
  service: SimulatedService;
  /** Where the plans (and beside them their state) are written. */
  dir: string;
  json: boolean;
  say: Narrator;
}

async function runScenario(scenario: Scenario, counter: string, { service, dir, json, say }: Sandbox, ctx: CommandContext): Promise<Outcome> {
  const shown = SCENARIOS[scenario];
  service.reset(scenario);
  const plan = await writeDemoPlan(dir, scenario, service);
  say({ kind: 'demo-run', scenario, plan, expected: shown.expected }, [
    '',
    ctx.out.color.bold(`${counter} ${shown.story}`),
    `    expected: ${shown.expected}`,
    `    $ rollout run ${plan}`,
  ]);
  const started = ctx.clock.monotonic();
  // The real `rollout run`: same loop, live view, state, history and exit codes as against production.
  const exitCode = await runReal(plan, json, ctx);
  const durationMs = Math.round(ctx.clock.monotonic() - started);
  const criticalBlips = await countCriticalHolds(plan, ctx);
  const ok = exitCode === shown.exitCode && service.percentage === shown.percent;
  const outcome: Outcome = { scenario, plan, exitCode, percent: service.percentage, criticalBlips, durationMs, ok };
  const blips = scenario === 'flaky' ? `, ${criticalBlips} critical blip${criticalBlips === 1 ? '' : 's'} ridden out` : '';
  say({ kind: 'demo-result', ...outcome }, [
    `${ok ? ctx.out.color.green('✓') : ctx.out.color.red('✗')} ${scenario}: run exited ${exitCode} with the flag at ${service.percentage}%${blips} (${(durationMs / 1000).toFixed(1)}s)`,
  ]);
  return outcome;
}

/** `rollout run` on the plan; an expected failure (target, state) becomes its exit code, to be reported as a miss. */
async function runReal(plan: string, json: boolean, ctx: CommandContext): Promise<number> {
  try {
    return (await runCommand({ plan, json }, ctx)).exitCode;
  } catch (err) {
    if (!(err instanceof RolloutError) || err instanceof InterruptedError) throw err;
    ctx.out.error(`error: ${err.message}${err.hint ? `\nhint: ${err.hint}` : ''}`);
    return err.exitCode;
  }
}

/** Critical polls that began a hold: the blips a run saw and did not roll back on. */
async function countCriticalHolds(plan: string, ctx: CommandContext): Promise<number> {
  const { events } = await readHistory({ plan, json: false }, ctx);
  return events.filter((e) => e.action === 'hold' && e.verdict === 'critical').length;
}

function describeMiss(o: Outcome): string {
  const shown = SCENARIOS[o.scenario];
  return `${o.scenario}: expected exit ${shown.exitCode} with the flag at ${shown.percent}%, but run exited ${o.exitCode} with the flag at ${o.percent}%`;
}

/** --keep: the service stays up, with the commands to explore it, until Ctrl-C. */
async function keepServing(service: SimulatedService, last: Outcome, say: Narrator, ctx: CommandContext): Promise<void> {
  say({ kind: 'demo-keep', url: service.url, plan: last.plan, scenario: service.scenario }, [
    '',
    ctx.out.color.bold(`The simulated service stays up at ${service.url} (scenario ${service.scenario}, flag at ${service.percentage}%).`),
    'In another terminal:',
    `  rollout status   ${last.plan}`,
    `  rollout advance  ${last.plan} --yes`,
    `  rollout run      ${last.plan}`,
    `  rollout rollback ${last.plan} --emergency`,
    `  curl -s ${service.summaryUrl}`,
    'Ctrl-C stops it and removes the demo files.',
  ]);
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

type Narrator = (json: { kind: `demo-${string}` } & Record<string, unknown>, lines: string[]) => void;

/**
 * The demo's own lines: a JSON object per line beside run's events with --json, else text.
 * Text goes to stdout like run's plain lines, so a CI log reads in order.
 */
function narrator(options: DemoOptions, ctx: CommandContext): Narrator {
  return (json, lines) => {
    if (options.json) ctx.out.printJson(demoDocument(json.kind, json));
    else for (const line of lines) ctx.out.print(line);
  };
}
