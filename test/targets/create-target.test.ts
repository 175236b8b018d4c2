import { describe, expect, it } from 'vitest';
import type { TargetConfig } from '../../src/plan/types.js';
import { createTarget } from '../../src/targets/create-target.js';

describe('createTarget', () => {
  it.each<[TargetConfig, RegExp]>([
    [{ type: 'http', set: { method: 'PUT', url: 'http://flags.test/x?token=t', headers: {} }, emergency: [], timeoutMs: 1000, retries: 0 }, /^http PUT http:\/\/flags\.test\/x$/],
    [{ type: 'env-file', path: '/srv/app/.env', key: 'PCT', emergency: {}, timeoutMs: 1000 }, /^env-file \/srv\/app\/\.env PCT$/],
    [{ type: 'unleash', url: 'http://u', token: 't', project: 'default', feature: 'f', environment: 'production', timeoutMs: 1000, retries: 0 }, /^unleash f \(default\/production\)$/],
    [{ type: 'command', set: ['flagctl', 'set', '{{percent}}'], emergency: [], timeoutMs: 1000 }, /^command flagctl set \{\{percent\}\}$/],
  ])('builds the $type target', (config, description) => {
    expect(createTarget(config).description).toMatch(description);
  });

  it('throws on an unknown type instead of defaulting', () => {
    expect(() => createTarget({ type: 'launchdarkly' } as unknown as TargetConfig)).toThrow('unknown target type "launchdarkly"');
  });
});
