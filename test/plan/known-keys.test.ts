/** An unknown key in a plan gets a "did you mean" when a key allowed there is close, at its line and column. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PlanError, type PlanProblem } from '../../src/errors.js';
import { allowedKeys, closestKey } from '../../src/plan/known-keys.js';
import { parsePlan } from '../../src/plan/load-plan.js';
import { Secrets } from '../../src/plan/secrets.js';

const VALID = readFileSync(new URL('../fixtures/plans/valid.yaml', import.meta.url), 'utf8');

async function problemsOf(text: string): Promise<PlanProblem[]> {
  try {
    await parsePlan(text, 'plan.yaml', { env: { PROM_TOKEN: 'tok-123' }, secrets: new Secrets() });
  } catch (err) {
    if (err instanceof PlanError) return err.problems;
    throw err;
  }
  return [];
}

const edit = (from: string, to: string) => {
  if (!VALID.includes(from)) throw new Error(`fixture lacks ${from}`);
  return VALID.replace(from, to);
};

describe('unknown keys', () => {
  it.each<[string, string, number, number, string | undefined]>([
    ['top level', edit('stages:', 'stags:'), 3, 1, 'stages'],
    ['in analysis', edit('  failureLimit: 2', '  failurLimit: 2'), 9, 3, 'failureLimit'],
    ['in a metric (list item)', edit('    critical: "> 5%"', '    critcal: "> 5%"'), 21, 5, 'critical'],
    ['in a source (by its type)', edit('    url: http://127.0.0.1:9090', '    url: http://127.0.0.1:9090\n    timout: 5s'), 14, 5, 'timeout'],
    ['in the target (by its type)', edit('  key: ROLLOUT_PERCENTAGE', '  kye: ROLLOUT_PERCENTAGE'), 25, 3, 'key'],
    ['case only', edit('  failureLimit: 2', '  failurelimit: 2'), 9, 3, 'failureLimit'],
    ['nothing like it', `${VALID}colour: blue\n`, 26, 1, undefined],
  ])('%s', async (_, text, line, col, meant) => {
    const problem = (await problemsOf(text)).find((p) => p.message.startsWith('unknown key'));
    expect(problem).toMatchObject({ file: 'plan.yaml', line, col });
    if (meant) expect(problem?.hint).toMatch(new RegExp(`^did you mean \`${meant}\`\\?`));
    else expect(problem?.hint).not.toMatch(/did you mean/);
  });

  it('suggests only keys allowed where the key stands', async () => {
    const data = { target: { type: 'http', set: {} }, metrics: [{ name: 'm' }] };
    expect(await allowedKeys(data, ['target'])).toContain('set');
    expect(await allowedKeys(data, ['target'])).not.toContain('key');
    expect(await allowedKeys(data, ['metrics', 0])).toEqual(expect.arrayContaining(['warning', 'critical', 'unit']));
    expect(closestKey('pth', await allowedKeys({ target: { type: 'env-file' } }, ['target']))).toBe('path');
    expect(closestKey('warn', ['warning', 'critical'])).toBeUndefined();
  });
});
