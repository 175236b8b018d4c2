/**
 * One race, played on either state store: `rollout rollback --emergency` while an advance by
 * runner-a is held mid-apply at the flag API. The emergency must take the lock over and say from
 * whom; the advance's PUT, landing afterwards, must not undo it.
 */
import { expect } from 'vitest';
import type { HistoryEvent } from '../../src/state/types.js';
import type { CliResult, RunningCli } from './cli.js';
import type { FakeService } from './fake-service.js';

/** How the race reaches the rollout under test (started at 10 %). */
export interface EmergencyRace {
  service: FakeService;
  /** Starts `rollout advance --yes` as runner-a. */
  startAdvance(): RunningCli;
  /** Runs `rollout rollback --emergency` as oncall. */
  emergency(): Promise<CliResult>;
  history(): HistoryEvent[] | Promise<HistoryEvent[]>;
}

/** Plays the race and checks target, output and history; returns the emergency's result. */
export async function expectEmergencyTakesOverHeldAdvance(race: EmergencyRace): Promise<CliResult> {
  const release = race.service.holdNextPut();
  const racing = race.startAdvance();
  await expect.poll(() => race.service.server.requests.filter((q) => q.method === 'PUT').length, { timeout: 20_000, interval: 50 }).toBe(2);

  const emergency = await race.emergency();
  expect(emergency.code, emergency.stderr).toBe(0);
  const from = `runner-a \\(pid ${racing.child.pid} on [^,]+, advance\\)`;
  expect(emergency.stdout).toMatch(new RegExp(`EMERGENCY ROLLBACK e2e: 10% → 0%; took the lock from ${from}`));
  expect(race.service.percentage).toBe(0);

  // The interrupted advance's PUT lands after the emergency; it loses the compare-and-set and
  // sets the target to what state now says, 0 %, not back to its own starting 10 %.
  release();
  const raced = await racing.result;
  expect(raced.code).toBe(5);
  expect(raced.stderr).toMatch(/^error: recording 25% failed: the state of e2e changed since this command read it.* — an emergency rollback or a rollback by another command took this rollout over \(now 0%\); the target was set back to 0% and this command stops$/m);
  expect(race.service.puts).toEqual([10, 0, 25, 0]);
  expect(race.service.percentage).toBe(0);

  const events = await race.history();
  expect(events.map((e) => `${e.action} ${e.from}→${e.to}`)).toEqual(['start 0→10', 'emergency-rollback 10→0']);
  expect(events[1]).toMatchObject({ actor: 'oncall', reason: expect.stringMatching(new RegExp(`took the lock from ${from}`)) });
  return emergency;
}
