/**
 * Colour, through the built CLI: painted on a terminal (a real one, in tmux), never with NO_COLOR
 * or --no-color, plain when output is piped unless FORCE_COLOR asks for it, and NO_COLOR wins.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { servicePlan } from '../helpers/fake-service.js';
import { useServiceRollout } from '../helpers/service-rollout.js';
import { openTerminal, type Terminal } from '../helpers/tmux.js';

const env = { APP_TOKEN: 'app-secret-token', ROLLOUT_ACTOR: 'pat' };
const world = useServiceRollout('color', env, (service) => servicePlan(service));
// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b\[/;
/** The verdict with a colour sequence right before it. */
// eslint-disable-next-line no-control-regex
const PAINTED_VERDICT = /\x1b\[[\d;]*m(\x1b\[[\d;]*m)*HEALTHY/;

let terminal: Terminal | undefined;
afterEach(() => {
  terminal?.close();
  terminal = undefined;
});

/** `rollout check` in a terminal; returns its screen with escape sequences. */
async function checkOnTerminal(extraEnv: Record<string, string> = {}, flags = ''): Promise<string> {
  terminal = openTerminal(`node ${BIN} check${flags}`, { cwd: world.dir, env: { ...env, ...extraEnv } });
  await terminal.waitFor(/verdict: HEALTHY/);
  return terminal.screenWithEscapes();
}

describe('colour on a terminal', () => {
  it('paints the verdict and the table', async () => {
    const screen = await checkOnTerminal();
    expect(screen).toMatch(PAINTED_VERDICT);
  });

  it.each([
    ['NO_COLOR=1', { NO_COLOR: '1' }, ''],
    ['--no-color', {}, ' --no-color'],
  ])('%s: not one escape sequence', async (_name, extraEnv, flags) => {
    const screen = await checkOnTerminal(extraEnv, flags);
    expect(screen).toMatch(/verdict: HEALTHY/);
    expect(screen).not.toMatch(ESCAPE);
  });
});

describe('colour when output is piped', () => {
  it.each([
    { name: 'no colour variable', colorEnv: { NO_COLOR: undefined }, painted: false },
    { name: 'FORCE_COLOR=1', colorEnv: { NO_COLOR: undefined, FORCE_COLOR: '1' }, painted: true },
    { name: 'FORCE_COLOR=0', colorEnv: { NO_COLOR: undefined, FORCE_COLOR: '0' }, painted: false },
    { name: 'FORCE_COLOR=1 and NO_COLOR=1', colorEnv: { NO_COLOR: '1', FORCE_COLOR: '1' }, painted: false },
  ])('$name: painted $painted', async ({ colorEnv, painted }) => {
    const r = await world.rollout(['check'], colorEnv);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('HEALTHY');
    if (painted) expect(r.stdout).toMatch(PAINTED_VERDICT);
    else expect(r.stdout).not.toMatch(ESCAPE);
  });
});
