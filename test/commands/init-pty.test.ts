/**
 * Walks the `rollout init` wizard in a real pseudo-terminal (tmux), keystroke by keystroke, as a
 * person would, and checks that the plan it writes loads through the real loader.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPlan } from '../../src/plan/load-plan.js';
import { Secrets } from '../../src/plan/secrets.js';
import { BIN } from '../helpers/cli.js';
import { openTerminal, type Terminal } from '../helpers/tmux.js';

const terminals: Terminal[] = [];

/** Starts `rollout init ...args` in a terminal; `EXIT=<code>` shows when it ends. */
function startWizard(dir: string, args: string[]): Terminal {
  const argv = [process.execPath, BIN, 'init', ...args].map((a) => `'${a}'`).join(' ');
  const terminal = openTerminal(`${argv}; echo "EXIT=$?"`, { cwd: dir, env: { NO_COLOR: '1' } });
  terminals.push(terminal);
  return terminal;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Waits for a question, then answers it: keys and/or literal text, then Enter. */
async function answer(terminal: Terminal, question: string, reply: { text?: string; keys?: string[] } = {}): Promise<void> {
  await terminal.waitFor(new RegExp(`\\? ${escape(question)}`));
  if (reply.keys) terminal.send(...reply.keys);
  if (reply.text) terminal.send('-l', reply.text);
  terminal.send('Enter');
  // The next question comes only once this one shows as answered.
  await terminal.waitFor(new RegExp(`✔ ${escape(question)}`));
}

// tmux comes from scripts/ensure-services.sh (npm test); without it this fails rather than skips.
describe('rollout init wizard in a terminal', () => {
  afterAll(() => {
    for (const terminal of terminals) terminal.close();
  });

  it('asks every question, accepts defaults and edits, and writes a plan that validates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-init-pty-'));
    const session = startWizard(dir, []);
    await answer(session, 'Rollout name', { text: 'pty-app' });
    await answer(session, 'How is the percentage applied?', { keys: ['Down'] }); // http
    await answer(session, 'URL of the flag API', { text: 'https://flags.example.com/api/flags/pty' });
    await answer(session, 'HTTP method that sets the percentage', { keys: ['Down'] }); // POST
    await answer(session, 'Path of the percentage in its GET answer'); // default: percentage
    await answer(session, 'Environment variable holding a bearer token for the flag API', { text: 'FLAG_TOKEN' });
    await answer(session, 'Stages', { keys: ['Down', 'Down'] }); // my own list
    await answer(session, 'Stages: ascending percentages', { text: '5,50,100' });
    await answer(session, 'Bake time', { text: '1h' });
    await answer(session, 'Where do the metrics come from?', { keys: ['Down'] }); // json
    await answer(session, 'URL of the JSON metrics endpoint', { text: 'https://app.example.com/api/metrics' });
    await answer(session, 'Environment variable holding a bearer token for the metrics source');
    await answer(session, 'Which metrics judge the canary?', { keys: ['Down', 'Space'] }); // untick p95 latency
    await answer(session, 'Error rate: warning');
    await answer(session, 'Error rate: critical');
    await answer(session, 'Average response time: warning', { text: '> 2s' });
    await answer(session, 'Average response time: critical');
    const screen = await session.waitFor(/EXIT=\d+/);
    expect(screen).toContain('EXIT=0');
    expect(screen).toMatch(/wrote rollout\.yaml: pty-app, stages 5 → 50 → 100%, bake 1h, 2 metrics from json, http target/);

    const plan = await loadPlan(join(dir, 'rollout.yaml'), { env: { FLAG_TOKEN: 'flag-secret' }, secrets: new Secrets() });
    expect(plan.name).toBe('pty-app');
    expect(plan.stages.map((s) => [s.percent, s.bakeMs])).toEqual([[5, 3600_000], [50, 3600_000], [100, 3600_000]]);
    expect(plan.target).toMatchObject({
      type: 'http',
      set: { method: 'POST', url: 'https://flags.example.com/api/flags/pty', headers: { Authorization: 'Bearer flag-secret' } },
      get: { path: 'percentage' },
    });
    expect(plan.metrics.map((m) => [m.name, m.warning?.text, m.critical?.text])).toEqual([
      ['error_rate', '> 1%', '> 5%'],
      ['avg_response_time', '> 2s', '> 5s'],
    ]);
  }, 60_000);

  it('re-asks after an invalid answer, skips questions answered by flags, and Ctrl-C writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-init-pty-'));
    const session = startWizard(dir, ['--target', 'env-file', '--key', 'APP_PERCENT']);
    await session.waitFor(/\? Rollout name/);
    session.send('-l', 'Not Valid');
    session.send('Enter');
    await session.waitFor(/use lower-case letters, digits and dashes/);
    session.send('C-u');
    session.send('-l', 'ok-name');
    session.send('Enter');
    // --target and --key were given, so the next question is the env file's path.
    const screen = await session.waitFor(/\? Path of the env file/);
    expect(screen).not.toContain('How is the percentage applied?');
    session.send('C-c');
    expect(await session.waitFor(/EXIT=\d+/)).toMatch(/init cancelled; nothing was written[\s\S]*EXIT=130/);
    expect(existsSync(join(dir, 'rollout.yaml'))).toBe(false);
  }, 30_000);

  it('re-asks a limit in the wrong unit with the number meant, as validate would say it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-init-pty-'));
    const flags = ['--name', 'units', '--target', 'env-file', '--env-path', '.env', '--key', 'APP_PERCENT', '--stages', '10,100', '--bake', '10s'];
    const source = ['--source', 'prometheus', '--source-url', 'http://127.0.0.1:9090', '--source-token-env', '', '--metrics', 'error_rate', '--error-rate-warning', '> 1%'];
    const session = startWizard(dir, [...flags, ...source]);
    await session.waitFor(/\? Error rate: critical/);
    session.send('C-u');
    session.send('-l', '> 5');
    session.send('Enter');
    await session.waitFor(/limit "> 5" is above 1[\s\S]*did you mean "> 0\.05"/);
    session.send('C-u');
    session.send('-l', '> 0.05');
    session.send('Enter');
    await session.waitFor(/EXIT=0/);
    const plan = await loadPlan(join(dir, 'rollout.yaml'), { env: {}, secrets: new Secrets() });
    expect(plan.metrics[0]?.critical).toMatchObject({ op: '>', value: 0.05 });
  }, 30_000);
});
