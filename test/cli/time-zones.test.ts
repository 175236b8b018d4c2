/**
 * Times in human output (issue 18, item 7): local time with its date and UTC offset by default, in
 * whatever zone `TZ` names; `--utc` (before or after the command) for UTC; JSON stays ISO UTC. And a
 * `complete` history row says where it completed, not `100% → 100%`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatLogTime, formatTime } from '../../src/time.js';
import { servicePlan } from '../helpers/fake-service.js';
import { useServiceRollout } from '../helpers/service-rollout.js';

const savedTz = process.env.TZ;
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('the shared time formatter', () => {
  const winter = Date.parse('2025-03-01T02:30:05.042Z');
  const summer = Date.parse('2025-07-01T09:00:00.000Z');

  it.each([
    ['America/New_York', '2025-02-28 21:30:05 -05:00', '2025-07-01 05:00:00 -04:00', '2025-02-28T21:30:05.042-05:00'],
    ['Asia/Kolkata', '2025-03-01 08:00:05 +05:30', '2025-07-01 14:30:00 +05:30', '2025-03-01T08:00:05.042+05:30'],
    ['UTC', '2025-03-01 02:30:05 +00:00', '2025-07-01 09:00:00 +00:00', '2025-03-01T02:30:05.042Z'],
  ])('TZ=%s: the local date, time and offset (daylight saving included)', (zone, winterText, summerText, logText) => {
    process.env.TZ = zone;
    expect(formatTime(winter)).toBe(winterText);
    expect(formatTime(new Date(summer).toISOString())).toBe(summerText);
    expect(formatLogTime(winter)).toBe(logText);
  });

  it('utc: the same instant in UTC, whatever TZ says', () => {
    process.env.TZ = 'Asia/Kolkata';
    expect(formatTime(winter, true)).toBe('2025-03-01 02:30:05 UTC');
    expect(formatLogTime(winter, true)).toBe('2025-03-01T02:30:05.042Z');
  });

  it('a time that cannot be read is shown as it was stored', () => {
    expect(formatTime('not a time')).toBe('not a time');
  });
});

const env = { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'pat' };
const world = useServiceRollout('tz', env, (service) => servicePlan(service, { stages: '[10, 100]' }));

/** The local offset of `zone` now, as the CLI will print it (`-05:00` or `-04:00` in New York). */
const offsetNow = (zone: string) => {
  process.env.TZ = zone;
  return formatTime(Date.now()).slice(-6);
};
const DATE_TIME = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d';

describe('the commands in a time zone', () => {
  it.each(['America/New_York', 'Asia/Kolkata'])('TZ=%s: run lines, history, status and report show local time with the offset; JSON stays UTC (--utc or not)', async (zone) => {
    const offset = offsetNow(zone);
    const tz = { TZ: zone };
    const run = await world.rollout(['run'], tz);
    expect(run.code, run.stderr).toBe(0);
    // Log lines: ISO 8601 with the zone's offset, never a bare Z.
    for (const line of run.stdout.trim().split('\n')) expect(line).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}${offset.replace('+', '\\+')} `));

    const history = await world.rollout(['history'], tz);
    expect(history.stdout).toMatch(new RegExp(`${DATE_TIME} ${offset.replace('+', '\\+')}`));
    expect(history.stdout).not.toMatch(/\d\dZ\b/);
    // The complete row: where it completed, not a move from 100 % to 100 %.
    expect(history.stdout).not.toContain('100% → 100%');
    expect(history.stdout).toMatch(/│ complete\s+│ at 100%\s+│/);
    expect(history.stdout).toMatch(/│ advance\s+│ 10% → 100%\s+│/);

    const report = await world.rollout(['report'], tz);
    expect(report.stdout).toMatch(new RegExp(`\\| 1 \\| 10% \\| 1 \\| ${DATE_TIME} ${offset.replace('+', '\\+')} \\|`));

    for (const utc of [[], ['--utc']]) {
      const json = JSON.parse((await world.rollout(['history', '--json', ...utc], tz)).stdout) as { events: { time: string }[] };
      expect(json.events.length).toBeGreaterThan(0);
      for (const event of json.events) expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  });

  it('status after a rollback dates it in local time; --utc before or after the command switches every command to UTC', async () => {
    const tz = { TZ: 'Asia/Kolkata' };
    world.service.metrics = { errorRate: 0.2, p95: 0.2, requests: 1000 };
    expect((await world.rollout(['run'], tz)).code).toBe(4);
    expect((await world.rollout(['status'], tz)).stdout).toMatch(new RegExp(`rolled back 10% → 0% by pat, ${DATE_TIME} \\+05:30 \\(\\d+m?s ago\\)`));

    const utcStatus = await world.rollout(['status', '--utc'], tz);
    expect(utcStatus.stdout).toMatch(new RegExp(`rolled back 10% → 0% by pat, ${DATE_TIME} UTC \\(`));
    for (const args of [['--utc', 'history'], ['history', '--utc']]) {
      const history = await world.rollout(args, tz);
      expect(history.code, history.stderr).toBe(0);
      expect(history.stdout).toMatch(new RegExp(`${DATE_TIME} UTC`));
      expect(history.stdout).not.toContain('+05:30');
    }
    expect((await world.rollout(['report', '--utc'], tz)).stdout).toMatch(new RegExp(`\\| 1 \\| 10% \\| 1 \\| ${DATE_TIME} UTC \\|`));
    const run = await world.rollout(['run', '--utc'], tz);
    expect(run.stdout.trim().split('\n')[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
  });
});
