/**
 * Fault injection 7: `kill -9` at random instants of real `advance` / `rollback` processes, on an
 * env-file target (a real .env with comments and quotes) and an http target (the fake flag API,
 * whose PUT takes a random while so kills land mid-apply). After every kill: state and history
 * parse, the env file is whole (exactly the old or the new file), no stray temp files, and a
 * state/target disagreement is what the next command reports as drift (exit 5), after which
 * `--adopt` or `rollback --emergency` brings the two back together.
 *
 * The seed is printed; FAULT_SEED=<n> replays a run.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compareDrift } from '../../src/targets/drift.js';
import type { RolloutState } from '../../src/state/types.js';
import { servicePlan, startFakeService, type FakeService } from '../helpers/fake-service.js';
import { runCli, startCli } from '../helpers/cli.js';
import { deadPid } from '../state/store-contract.js';
import { readStore, seededRandom, suiteSeed, tempDir } from './support.js';

/** Killed commands per target; the two targets run side by side. */
const COMMANDS_PER_TARGET = 100;
/** Each target's loop stops here even if it has not reached its count (slow machine). */
const LOOP_BUDGET_MS = 35_000;
const STAGES = [10, 25, 50, 75, 100];
const KEY = 'OPENROUTER_ROLLOUT_PERCENTAGE';
const env = { APP_TOKEN: 'app-token' };

/** The .env the env-file target edits; `{{p}}` is the only part that may ever change. */
const ENV_TEMPLATE = `# App settings. Everything but the rollout line must survive byte for byte.
export APP_NAME="checkout service"   # quoted, with an inline comment
GREETING='hello # not a comment'

${KEY}="{{p}}"  # owned by rollout
DATABASE_URL=postgres://app:secret@db:5432/app
# trailing comment, no final newline`;

const envFileText = (percent: number) => ENV_TEMPLATE.replace('{{p}}', String(percent));

/** One target under test: where its rollout lives and how to look at it from outside. */
interface World {
  name: string;
  /** The plan's directory (the CLI's cwd); state lives in `.rollout/` beside the plan. */
  dir: string;
  /** The target's percentage, or a description of what is wrong with it. */
  readTarget(): { percent: number } | { broken: string };
  /** Paths of files the target left behind that should not be there (temp files). */
  strayFiles(): string[];
  /** Every command's environment. */
  env: NodeJS.ProcessEnv;
  /**
   * Before a command that will be killed: makes the target's next change slow by a random amount,
   * so that kills land inside it; returns extra environment for that command.
   */
  slowDown(random: () => number): NodeJS.ProcessEnv;
  /** After a slowed-down command: waits until what it sent is applied, and ends the slowness. */
  settle(): Promise<void>;
}

/** The tally printed at the end. */
interface Counts {
  commands: number;
  kills: number;
  finished: number;
  drifts: number;
  /** Emergencies killed after writing their fence, finished by the next emergency. */
  fenced: number;
  recoveries: number;
  corruptions: number;
  problems: string[];
}

let service: FakeService;
beforeAll(async () => {
  service = await startFakeService();
});
afterAll(async () => {
  await service.close();
});

function envFileWorld(): World {
  const dir = tempDir('kill-env');
  const appDir = join(dir, 'app');
  mkdirSync(appDir);
  const envPath = join(appDir, '.env');
  writeFileSync(envPath, envFileText(0));
  // The `after` step (think `docker compose restart`) runs once the file is replaced: a kill
  // inside it leaves the new file with the old state, the drift case.
  const target = `target: { type: env-file, path: app/.env, key: ${KEY}, after: [sleep, "\${AFTER_SLEEP}"] }`;
  writeFileSync(join(dir, 'rollout.yaml'), servicePlan(service).replace(/^target:[\s\S]*$/m, target));
  return {
    name: 'env-file',
    dir,
    readTarget() {
      const percentIn = (text: string) => [0, ...STAGES].find((p) => envFileText(p) === text);
      const text = readFileSync(envPath, 'utf8');
      const percent = percentIn(text);
      if (percent === undefined) return { broken: `torn or rewritten .env: ${JSON.stringify(text)}` };
      // The backup is the previous file, so it must be whole too.
      const backup = existsSync(`${envPath}.bak`) ? readFileSync(`${envPath}.bak`, 'utf8') : envFileText(0);
      return percentIn(backup) === undefined ? { broken: `torn .env.bak: ${JSON.stringify(backup)}` } : { percent };
    },
    strayFiles: () => readdirSync(appDir).filter((f) => f !== '.env' && f !== '.env.bak').map((f) => join(appDir, f)),
    env: { ...env, AFTER_SLEEP: '0' },
    slowDown: (random) => ({ AFTER_SLEEP: (random() * 0.15).toFixed(3) }),
    settle: async () => {},
  };
}

function httpWorld(): World {
  const dir = tempDir('kill-http');
  writeFileSync(join(dir, 'rollout.yaml'), servicePlan(service));
  const putsReceived = () => service.server.requests.filter((r) => r.method === 'PUT' && r.url === '/flag').length;
  return {
    name: 'http',
    dir,
    readTarget: () => ({ percent: service.percentage }),
    strayFiles: () => [],
    env,
    slowDown(random) {
      service.putDelayMs = Math.floor(random() * 150);
      return {};
    },
    async settle() {
      // A PUT the dead client sent is still applied by the server after its delay; a few ms more
      // cover one still in the socket buffer.
      while (putsReceived() > service.puts.length) await sleep(5);
      await sleep(20);
      service.putDelayMs = 0;
    },
  };
}

/** Files in the state dir other than state and history: lock files and temp files. */
function stateStrays(world: World): string[] {
  let names: string[];
  try {
    names = readdirSync(join(world.dir, '.rollout'));
  } catch {
    return [];
  }
  return names.filter((f) => f !== 'e2e.json' && f !== 'e2e.history.jsonl').map((f) => join(world.dir, '.rollout', f));
}

/** The process that left `path`: the pid in a temp file's name, or the holder in a lock file. */
function writerOf(path: string): number | undefined {
  const named = /[.-](\d+)[.-][0-9a-f]+\.(tmp|evicted)$/.exec(path)?.[1];
  if (named) return Number(named);
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { pid?: number }).pid;
  } catch {
    return undefined;
  }
}

/**
 * Stray files in the target's directory and the state dir. Those of killed processes are allowed
 * where `allowed` says so (nothing cleans up at the instant of a SIGKILL; the next command that
 * takes the lock, or writes the env file, does); any other is a leftover.
 */
function checkStrays(world: World, counts: Counts, when: string, allowed: { state: Set<number>; target: Set<number> }): void {
  const strays = [
    ...world.strayFiles().filter((f) => !allowed.target.has(writerOf(f) ?? -1)),
    ...stateStrays(world).filter((f) => !allowed.state.has(writerOf(f) ?? -1)),
  ];
  if (strays.length > 0) counts.problems.push(`${world.name} ${when}: stray files: ${strays.join(', ')}`);
}

/** What an advance would move the target to from `state` (the next stage above it). */
function advanceDestination(state: RolloutState | undefined, current: number): number {
  if (state?.completed) return current;
  return STAGES.find((p) => p > current) ?? current;
}

/** Picks the next command: mostly advances, some rollbacks, now and then an emergency. */
function pickCommand(random: () => number, state: RolloutState | undefined, current: number): { args: string[]; to: number } {
  const r = random();
  if (r < 0.08) return { args: ['rollback', '--emergency'], to: 0 };
  if (r < 0.3 || state?.completed) return { args: ['rollback', '--yes'], to: 0 };
  return { args: ['advance', '--yes'], to: advanceDestination(state, current) };
}

/** State, history and target as they are now; a problem reading them is a corruption. */
async function inspect(world: World, allowedContents: number[], counts: Counts, when: string) {
  let state: RolloutState | undefined;
  try {
    ({ state } = await readStore(join(world.dir, '.rollout'), 'e2e'));
  } catch (err) {
    counts.corruptions++;
    counts.problems.push(`${world.name} ${when}: state or history unreadable: ${(err as Error).message}`);
    return undefined;
  }
  const target = world.readTarget();
  if ('broken' in target || !allowedContents.includes(target.percent)) {
    counts.corruptions++;
    counts.problems.push(`${world.name} ${when}: target is neither ${allowedContents.join(' nor ')}: ${JSON.stringify(target)}`);
    return undefined;
  }
  return { state, target: target.percent, drift: compareDrift(target.percent, state?.percent).drift };
}

/** Runs a command that must not be killed, and checks its exit code (and its stderr). */
async function runChecked(world: World, args: string[], counts: Counts, expected: { code: number; stderr?: RegExp }, extraEnv: NodeJS.ProcessEnv = {}): Promise<void> {
  const r = await runCli(args, { cwd: world.dir, env: { ...world.env, ...extraEnv } });
  if (r.code !== expected.code || (expected.stderr && !expected.stderr.test(r.stderr))) {
    counts.problems.push(`${world.name}: \`rollout ${args.join(' ')}\` exited ${r.code}, expected ${expected.code}${expected.stderr ? ` with ${expected.stderr}` : ''}: ${r.stderr.trim().slice(0, 300)}`);
  }
}

/** Median wall time of a few slowed-down advances: the scale the kill delays are drawn from. */
async function calibrate(world: World, counts: Counts, random: () => number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await runChecked(world, ['advance', '--yes'], counts, { code: 0 }, world.slowDown(random));
    times.push(performance.now() - started);
    await world.settle();
  }
  await runChecked(world, ['rollback', '--yes'], counts, { code: 0 });
  return times.sort((a, b) => a - b)[1] ?? 0;
}

/** Kills commands on `world` until the count or the time budget runs out. */
async function torture(world: World, random: () => number): Promise<Counts> {
  const counts: Counts = { commands: 0, kills: 0, finished: 0, drifts: 0, fenced: 0, recoveries: 0, corruptions: 0, problems: [] };
  const none = new Set<number>();
  const killed = new Set<number>();
  // A little over a whole command, so most kills land inside one and a few miss it.
  let maxDelay = (await calibrate(world, counts, random)) * 1.1;
  const deadline = Date.now() + LOOP_BUDGET_MS;
  while (counts.commands < COMMANDS_PER_TARGET && Date.now() < deadline && counts.corruptions === 0) {
    const before = await inspect(world, [0, ...STAGES], counts, 'before a command');
    if (!before) break;
    const command = pickCommand(random, before.state, before.target);
    const slow = world.slowDown(random);
    const { child, result: outcome } = startCli(command.args, { cwd: world.dir, env: { ...world.env, ...slow } });
    await sleep(random() * maxDelay);
    child.kill('SIGKILL');
    const result = await outcome;
    counts.commands++;
    const when = `after \`${command.args.join(' ')}\` (${before.target}% → ${command.to}%)`;
    // Holds about one command in ten finishing before its kill while the machine's load changes:
    // a kill widens the window a little, a command that finished first narrows it.
    maxDelay *= result.code === null ? 1.01 : 0.91;
    if (result.code === null) {
      counts.kills++;
      if (child.pid !== undefined) killed.add(child.pid);
    } else {
      counts.finished++;
      if (result.code !== 0) counts.problems.push(`${world.name} ${when} finished with exit ${result.code}: ${result.stderr.trim().slice(0, 300)}`);
    }
    await world.settle();
    const after = await inspect(world, [before.target, command.to], counts, when);
    if (!after) break;
    checkStrays(world, counts, when, { state: killed, target: killed });
    if (after.state?.emergency) {
      // An emergency killed after its fence: nothing but another emergency may act until it is finished.
      counts.fenced++;
      await runChecked(world, ['advance', '--yes'], counts, { code: 5, stderr: /emergency rollback .* did not record 0%/ });
      await runChecked(world, ['rollback', '--emergency'], counts, { code: 0 });
      const finished = await inspect(world, [0], counts, 'after finishing the emergency');
      if (finished?.drift !== false || finished.state?.emergency) counts.problems.push(`${world.name}: the second emergency left the rollout fenced or drifted`);
      continue;
    }
    if (!after.drift) continue;
    // State and target disagree: the next command must say so, and either way out must work.
    counts.drifts++;
    await runChecked(world, ['advance', '--yes'], counts, { code: 5, stderr: /drift/ });
    const emergency = random() < 0.5;
    const recovery = emergency ? ['rollback', '--emergency'] : ['advance', '--yes', '--adopt'];
    await runChecked(world, recovery, counts, { code: 0 });
    const recovered = await inspect(world, [0, ...STAGES], counts, `after \`${recovery.join(' ')}\``);
    if (recovered?.drift === false) counts.recoveries++;
    else counts.problems.push(`${world.name}: \`${recovery.join(' ')}\` left state and target apart`);
    // Both took the lock, which sweeps the state dir; only the emergency surely rewrote the target.
    checkStrays(world, counts, `after \`${recovery.join(' ')}\``, { state: none, target: emergency ? none : killed });
  }
  // Whatever the kills did, the break-glass command still works and leaves nothing behind.
  await runChecked(world, ['rollback', '--emergency'], counts, { code: 0 });
  checkStrays(world, counts, 'at the end', { state: none, target: none });
  return counts;
}

it('survives kill -9 at random points of 200 advance/rollback commands on env-file and http targets', { timeout: 120_000 }, async () => {
  const seed = suiteSeed('kill-during-commands');
  const worlds = [envFileWorld(), httpWorld()];
  const results = await Promise.all(worlds.map((world, i) => torture(world, seededRandom(seed + i))));
  for (const [i, c] of results.entries()) {
    console.log(`${worlds[i]?.name}: commands=${c.commands}, kills=${c.kills}, finished=${c.finished}, drifts=${c.drifts}, recoveries=${c.recoveries}, corruptions=${c.corruptions}`);
  }
  const total = (key: 'commands' | 'kills' | 'recoveries' | 'corruptions' | 'drifts') => results.reduce((sum, c) => sum + c[key], 0);
  console.log(`kill-during-commands (seed ${seed}): kills=${total('kills')}, recoveries=${total('recoveries')}, corruptions=${total('corruptions')}`);
  expect(results.flatMap((c) => c.problems)).toEqual([]);
  expect(total('corruptions')).toBe(0);
  // Most kills must land inside a command, or the suite proves little.
  expect(total('kills')).toBeGreaterThan(total('commands') * 0.6);
  expect(total('commands')).toBeGreaterThanOrEqual(50);
  expect(total('recoveries')).toBe(total('drifts'));
});

it('the next command removes the temp files a killed writer left, and never a live writer’s', async () => {
  const world = envFileWorld();
  const stateDir = join(world.dir, '.rollout');
  mkdirSync(stateDir);
  const dead = await deadPid();
  const alive = process.pid;
  const orphans = [
    join(world.dir, 'app', `..env.rollout-${dead}-0badc0de.tmp`),
    join(world.dir, 'app', `..env.bak.rollout-${dead}-0badc0de.tmp`),
    join(stateDir, `e2e.json.${dead}.0123456789ab.tmp`),
    join(stateDir, `e2e.lock.${dead}.0123456789ab.evicted`),
    join(stateDir, `e2e.saving.${dead}.0123456789ab.tmp`),
  ];
  const inFlight = [join(world.dir, 'app', `..env.rollout-${alive}-0badc0de.tmp`), join(stateDir, `e2e.json.${alive}.0123456789ab.tmp`)];
  for (const path of [...orphans, ...inFlight]) writeFileSync(path, 'partial');
  const r = await runCli(['advance', '--yes'], { cwd: world.dir, env: world.env });
  expect(r.code, r.stderr).toBe(0);
  expect(orphans.filter((path) => existsSync(path))).toEqual([]);
  expect(inFlight.filter((path) => existsSync(path))).toEqual(inFlight);
});
