import { describe, expect, it } from 'vitest';
import { TargetError } from '../../src/errors.js';
import { compareDrift, detectDrift } from '../../src/targets/drift.js';
import type { Target } from '../../src/targets/target.js';

describe('compareDrift', () => {
  it.each([
    ['same percentage', 25, 25, { targetPercent: 25, statePercent: 25, drift: false }],
    ['float noise is not drift', 0.1 + 0.2, 0.3, { targetPercent: 0.1 + 0.2, statePercent: 0.3, drift: false }],
    ['target moved', 40, 25, { targetPercent: 40, statePercent: 25, drift: true, message: 'state says 25%, target says 40%' }],
    ['target switched off', 0, 50, { targetPercent: 0, statePercent: 50, drift: true, message: 'state says 50%, target says 0%' }],
    ['not started, target at 0', 0, undefined, { targetPercent: 0, drift: false }],
    ['not started, target already on', 40, undefined, { targetPercent: 40, drift: true, message: 'the rollout has not started, target says 40%' }],
    ['target cannot be read', undefined, 25, { statePercent: 25, drift: false, message: 'the target cannot be read back; drift not checked' }],
  ] as const)('%s', (_name, target, state, expected) => {
    expect(compareDrift(target, state)).toEqual(expected);
  });
});

function fakeTarget(read: () => Promise<number | undefined>): Target {
  return { description: 'fake flag', read, apply: async () => {}, emergency: async () => {} };
}

describe('detectDrift', () => {
  it('reads the target and compares it with state', async () => {
    expect(await detectDrift(fakeTarget(async () => 40), 25)).toEqual({
      targetPercent: 40,
      statePercent: 25,
      drift: true,
      message: 'state says 25%, target says 40%',
    });
  });

  it('passes a TargetError from the read through', async () => {
    const failure = new TargetError('GET http://flags/x answered 500');
    await expect(detectDrift(fakeTarget(async () => Promise.reject(failure)), 25)).rejects.toBe(failure);
  });

  it('turns any other read failure into a TargetError naming the target', async () => {
    const err = await detectDrift(fakeTarget(async () => Promise.reject(new Error('boom'))), 25).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as Error).message).toBe('reading fake flag failed: boom');
  });
});
