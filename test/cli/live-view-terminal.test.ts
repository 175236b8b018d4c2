/**
 * The live views in a real terminal (tmux) at 120 and 60 columns (issue 18, item 5): `run` and
 * `status --watch` redraw in place with lines longer than the width, and afterwards the whole
 * terminal, scrollback included, holds exactly one frame, cut to the width, showing the final state.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, startCli } from '../helpers/cli.js';
import type { FakeService } from '../helpers/fake-service.js';
import { useServiceRollout } from '../helpers/service-rollout.js';
import { openTerminal, type Terminal } from '../helpers/tmux.js';

const env = { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'pat' };

/** Metric names long enough that the hold line and the table rows outgrow a 120-column terminal. */
const ERRORS = 'checkout_service_error_rate_over_the_last_five_minutes';
const LATENCY = 'checkout_service_p95_latency_over_the_last_five_minutes';

const world = useServiceRollout('live', env, (service: FakeService) => `version: 1
name: e2e
stages: [10, 50, 100]
analysis: { interval: 1s, bake: 0s, failureLimit: 2 }
sources:
  app: { type: json, url: "${service.url}/metrics.json", headers: { Authorization: "Bearer \${APP_TOKEN}" } }
metrics:
  - { name: ${ERRORS}, source: app, path: result.data.json.errorRate, unit: ratio, warning: "> 1%", critical: "> 5%" }
  - { name: ${LATENCY}, source: app, path: result.data.json.p95, unit: seconds, warning: "> 1s", critical: "> 3s" }
target:
  type: http
  set: { method: PUT, url: "${service.url}/flag", body: { percentage: "{{percent}}" } }
  get: { url: "${service.url}/flag", path: percentage }
`);

let terminal: Terminal | undefined;
afterEach(() => {
  terminal?.close();
  terminal = undefined;
});

const HEALTHY = { errorRate: 0.001, p95: 0.2, requests: 1000 };
const WARNING = { errorRate: 0.02, p95: 1.5, requests: 1000 };
const CRITICAL = { errorRate: 0.2, p95: 4, requests: 1000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}gm`))?.length ?? 0;

/** Every row the terminal holds, scrollback and screen, without the blank rows at the end. */
function allRows(t: Terminal): string[] {
  return t.scrollback().replace(/\s+$/, '').split('\n');
}

/** Opens `rollout ...args` in a terminal `columns` wide, in colour as people see it (the rows are read back as text). */
function open(args: string, columns: number, extraEnv: Record<string, string> = {}): Terminal {
  terminal = openTerminal(`node ${BIN} ${args}`, { cwd: world.dir, env: { ...env, ...extraEnv }, columns, rows: 30 });
  return terminal;
}

/** Waits for the hold (warnings from the start), lets it redraw a few times (polls and the view's own refresh), then turns critical. */
async function holdThenBreak(t: Terminal, holdPattern: RegExp): Promise<void> {
  await t.waitFor(holdPattern, 20_000);
  await sleep(3_000);
  world.service.metrics = CRITICAL;
}

describe('rollout run on a terminal', () => {
  it('at 120 columns: one frame in the whole scrollback, cut to the width; after a rollback it says 0 %, not the last polled stage', async () => {
    world.service.metrics = WARNING;
    const t = open('run', 120);
    await holdThenBreak(t, /^rollout run · e2e · 10% \(stage 1\/3\)\n[^]*^last decision .*HOLD → hold/m);
    await t.waitFor(/run ended/, 30_000);
    expect(t.screenWithEscapes()).toMatch(/\x1b\[[\d;]*m/);
    const rows = allRows(t);
    const text = rows.join('\n');
    // The 125+-column hold line was cut, never wrapped: no row is wider than the terminal.
    for (const row of rows) expect([...row].length, row).toBeLessThanOrEqual(120);
    // One frame: one header, no bar or decision line left from the redraws, one table.
    expect(count(text, /^rollout run · e2e · /), text).toBe(1);
    expect(count(text, /^bake \[/), text).toBe(0);
    expect(count(text, /^last decision \(/), text).toBe(0);
    expect(count(text, /^┌/), text).toBe(1);
    // The final frame: the rolled-back percent and the exit, not the 10 % of the last poll.
    expect(text).toMatch(/^rollout run · e2e · rolled back to 0% · exit 4$/m);
    // Cut, not wrapped: the long rows of the frame's table end in an ellipsis at the edge.
    expect(count(text, /^│ checkout_service_.*…$/), text).toBe(2);
    // The end follows the frame in full: the reason is never cut.
    expect(text).toMatch(/run ended: rolled-back at 0% \(exit 4\)/);
    expect(text.replace(/\n/g, '')).toContain('critical > 3s (critical 2/2)');
    const rollback = world.history().find((e) => e.action === 'rollback');
    expect(rollback?.from).toBeGreaterThan(0);
    expect(text).not.toMatch(new RegExp(`^rollout run · e2e · ${rollback?.from}%`, 'm'));
    // The events stay above the frame, each logged once.
    expect(count(text, new RegExp(`rollback ${rollback?.from}% → 0% by pat`)), text).toBe(1);
    expect(world.state()).toMatchObject({ percent: 0, rolledBack: true });
  }, 60_000);

  it('at 60 columns: the compact layout, one frame in the scrollback, no half frames', async () => {
    world.service.metrics = WARNING;
    const t = open('run', 60);
    await holdThenBreak(t, /^e2e · 10% \(stage 1\/3\)\n[^]*^HOLD → hold/m);
    await t.waitFor(/run ended/, 30_000);
    const rows = allRows(t);
    const text = rows.join('\n');
    for (const row of rows) expect([...row].length, row).toBeLessThanOrEqual(60);
    expect(count(text, /^e2e · /), text).toBe(1);
    expect(text).toMatch(/^e2e · rolled back to 0% · exit 4$/m);
    expect(count(text, /^checkout_service_.*…$/), text).toBe(2);
    // One metric a line, each once: the table of the wide layout would wrap at 60 columns.
    expect(count(text, new RegExp(`^${ERRORS} `)), text).toBe(1);
    expect(count(text, new RegExp(`^${LATENCY} `)), text).toBe(1);
    expect(text).not.toMatch(/┌/);
    expect(count(text, /^bake \[/), text).toBe(0);
    expect(count(text, /^(HEALTHY|HOLD|CRITICAL) → /), text).toBe(0);
  }, 60_000);

  it('after a healthy run the final frame says complete at 100 %; times carry their date and zone', async () => {
    world.service.metrics = HEALTHY;
    const t = open('run', 60, { TZ: 'Asia/Kolkata' });
    await t.waitFor(/run ended/, 30_000);
    const text = allRows(t).join('\n');
    expect(text).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+05:30 start 0% → 10% by pat/m);
    expect(text).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+05:30 run ended: complete/m);
    expect(text).toMatch(/^e2e · complete at 100% \(stage 3\/3\) · exit 0$/m);
    expect(text.replace(/\n/g, '')).toMatch(/run ended: complete at 100% \(exit 0\)/);
    expect(count(text, /^e2e · /), text).toBe(1);
    expect(world.state()).toMatchObject({ percent: 100, completed: true });
  }, 60_000);
});

describe('the progress line under the live view', () => {
  it('a slow flag API shows its wait below the frame, cut to the width; once answered, nothing of it is left', async () => {
    world.service.metrics = HEALTHY;
    world.service.putDelayMs = 3_500;
    const t = open('run --until 10', 60);
    await t.waitFor(/^waiting for an answer from PUT http:\/\/127\.0\.0\.1:\d+\/.*…$/m, 20_000);
    await t.waitFor(/run ended/, 30_000);
    const rows = allRows(t);
    const text = rows.join('\n');
    for (const row of rows) expect([...row].length, row).toBeLessThanOrEqual(60);
    expect(text).not.toMatch(/waiting for an answer/);
    expect(count(text, /^e2e · /), text).toBe(1);
    expect(text).toMatch(/^e2e · stopped \(--until\) at 10% \(stage 1\/3\) · exit 0$/m);
  }, 60_000);
});

describe('rollout status --watch on a terminal', () => {
  it.each([120, 60])('at %i columns: redraws in place, the verdict line cut to the width, one frame left after Ctrl-C', async (columns) => {
    world.service.metrics = HEALTHY;
    expect((await world.rollout(['advance', '--yes'])).code).toBe(0);
    world.service.metrics = WARNING;
    const t = open('status --watch --interval 1s', columns);
    await t.waitFor(/verdict: HOLD/);
    await sleep(3_500);
    world.service.metrics = CRITICAL;
    await t.waitFor(/verdict: CRITICAL/, 20_000);
    t.send('C-c');
    await t.waitFor(/interrupted/);
    const rows = allRows(t);
    const text = rows.join('\n');
    for (const row of rows) expect([...row].length, row).toBeLessThanOrEqual(columns);
    expect(count(text, /^e2e {2}stage 1\/3 at 10%/), text).toBe(1);
    expect(count(text, /^verdict: /), text).toBe(1);
    expect(count(text, /^next: /), text).toBe(1);
    expect(text).toMatch(/^verdict: CRITICAL — .*…$/m);
    expect(count(text, new RegExp(`${ERRORS}`)), text).toBeGreaterThanOrEqual(1);
    if (columns < 100) expect(text).not.toMatch(/┌/);
    else expect(count(text, /^┌/), text).toBe(1);
  }, 60_000);
});

describe('the next: line under status --watch', () => {
  /** A hold reason longer than a 120-column row on its own (125 characters). */
  const REASON = `waiting for the payments team to confirm the ledger migration finished on every shard before we go any further with it please`;

  /** Every row within `columns`; each of `commands` whole on one row, once (the frame wraps the line, never cuts it). */
  function expectWhole(t: Terminal, columns: number, commands: RegExp[]): string {
    const rows = allRows(t);
    const text = rows.join('\n');
    for (const row of rows) expect([...row].length, row).toBeLessThanOrEqual(columns);
    for (const command of commands) expect(count(text, command), text).toBe(1);
    expect(count(text, /^next: /), text).toBe(1);
    return text;
  }

  /** Watches status in a terminal `columns` wide until `pattern` shows, then stops it with Ctrl-C. */
  async function watchUntil(columns: number, pattern: RegExp): Promise<Terminal> {
    const t = open('status --watch --interval 1s', columns);
    await t.waitFor(pattern, 20_000);
    await sleep(1_500);
    t.send('C-c');
    await t.waitFor(/interrupted/);
    return t;
  }

  it.each([120, 60])('at %i columns: a long hold reason wraps, and the whole `rollout resume` command shows', async (columns) => {
    world.service.metrics = HEALTHY;
    expect((await world.rollout(['advance', '--yes'])).code).toBe(0);
    expect(REASON.length).toBe(125);
    expect((await world.rollout(['hold', '--reason', REASON])).code).toBe(0);
    const t = await watchUntil(columns, /lifts\s+it/);
    const text = expectWhole(t, columns, [/`rollout resume[^`\n]*`/]);
    // Nothing of the reason is lost either.
    expect(text.replace(/\s+/g, ' ')).toContain(`next: paused by pat: ${REASON}; \``);
  }, 60_000);

  it.each([120, 60])('at %i columns: after a rollback the history and advance commands show whole', async (columns) => {
    world.service.metrics = HEALTHY;
    expect((await world.rollout(['advance', '--yes'])).code).toBe(0);
    expect((await world.rollout(['rollback', '--yes', '--reason', 'p95 spike in checkout'])).code).toBe(0);
    const t = await watchUntil(columns, /starts\s+again/);
    expectWhole(t, columns, [/`rollout history[^`\n]*`/, /`rollout advance[^`\n]*`/]);
  }, 60_000);
});

describe('without a terminal', () => {
  it('run prints plain lines and status --watch each refresh in full: not one escape sequence', async () => {
    world.service.metrics = HEALTHY;
    const run = await world.rollout(['run', '--until', '10']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(/\x1b/);
    expect(run.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(3);
    const watching = startCli(['status', '--watch', '--interval', '300ms'], { cwd: world.dir, env });
    await expect.poll(() => world.service.server.requests.filter((r) => r.url === '/metrics.json').length, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(3);
    watching.child.kill('SIGINT');
    const status = await watching.result;
    expect(status.code).toBe(130);
    expect(status.stdout).not.toMatch(/\x1b/);
    expect(count(status.stdout, /^next: /)).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
