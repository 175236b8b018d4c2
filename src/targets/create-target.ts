/** Builds the target a plan names. */
import type { TargetConfig } from '../plan/types.js';
import { createCommandTarget } from './command.js';
import { createEnvFileTarget } from './env-file.js';
import { createHttpTarget } from './http.js';
import type { Target } from './target.js';
import { createUnleashTarget } from './unleash.js';
import type { RetryOptions } from '../net/retry.js';

/** What a command tells the HTTP-speaking targets: where to show waits longer than a second. */
export type TargetOptions = Pick<RetryOptions, 'onWait'>;

/**
 * The target for `config`. An unknown type throws instead of falling back to some default: a
 * rollout must never move a percentage somewhere the plan did not say.
 */
export function createTarget(config: TargetConfig, options: TargetOptions = {}): Target {
  switch (config.type) {
    case 'http':
      return createHttpTarget(config, options);
    case 'env-file':
      return createEnvFileTarget(config);
    case 'unleash':
      return createUnleashTarget(config, options);
    case 'command':
      return createCommandTarget(config);
    default: {
      // Reached only when a config bypassed the plan schema; `never` keeps the switch complete.
      const unknown: never = config;
      throw new Error(`unknown target type ${JSON.stringify((unknown as { type?: unknown }).type)}`);
    }
  }
}
