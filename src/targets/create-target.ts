/** Builds the target a plan names, from its type in the registry (src/targets/kinds/). */
import type { TargetConfig } from '../plan/types.js';
import { targetKinds } from './kinds/index.js';
import type { Target } from './target.js';

/**
 * The target for `config`, its implementation loaded now. An unknown type throws instead of
 * falling back to some default: a rollout must never move a percentage somewhere the plan did not say.
 */
export async function createTarget(config: TargetConfig): Promise<Target> {
  return targetKinds.get(config.type).create(config);
}
