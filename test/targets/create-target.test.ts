import { describe, expect, it } from 'vitest';
import type { TargetConfig } from '../../src/plan/types.js';
import { createTarget } from '../../src/targets/create-target.js';
import type { CommandTargetConfig } from '../../src/targets/kinds/command.js';
import type { EnvFileTargetConfig } from '../../src/targets/kinds/env-file.js';
import type { HttpTargetConfig } from '../../src/targets/kinds/http.js';
import type { UnleashTargetConfig } from '../../src/targets/kinds/unleash.js';

const http: HttpTargetConfig = { type: 'http', set: { method: 'PUT', url: 'http://flags.test/x?token=t', headers: {} }, emergency: [], timeoutMs: 1000, retries: 0 };
const envFile: EnvFileTargetConfig = { type: 'env-file', path: '/srv/app/.env', key: 'PCT', emergency: {}, timeoutMs: 1000 };
const unleash: UnleashTargetConfig = { type: 'unleash', url: 'http://u', token: 't', project: 'default', feature: 'f', environment: 'production', timeoutMs: 1000, retries: 0 };
const command: CommandTargetConfig = { type: 'command', set: ['flagctl', 'set', '{{percent}}'], emergency: [], timeoutMs: 1000 };

describe('createTarget', () => {
  it.each<[TargetConfig, RegExp]>([
    [http, /^http PUT http:\/\/flags\.test\/x$/],
    [envFile, /^env-file \/srv\/app\/\.env PCT$/],
    [unleash, /^unleash f \(default\/production\)$/],
    [command, /^command flagctl set \{\{percent\}\}$/],
  ])('builds the $type target', async (config, description) => {
    expect((await createTarget(config)).description).toMatch(description);
  });

  it('throws on an unknown type instead of defaulting', async () => {
    await expect(createTarget({ type: 'launchdarkly' })).rejects.toThrow('unknown target type "launchdarkly"');
  });
});
