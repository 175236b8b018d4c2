/** The target types a plan may name. Adding one: a file beside this one, and one line here. */
import { KindRegistry } from '../../plan/kind-registry.js';
import { commandKind } from './command.js';
import { envFileKind } from './env-file.js';
import { httpKind } from './http.js';
import type { TargetKind } from './kind.js';
import { unleashKind } from './unleash.js';

/** Every target type, in the order the schema, `rollout validate`'s hints and `rollout init` list them. */
export const targetKinds = new KindRegistry<TargetKind>('target', [envFileKind, httpKind, unleashKind, commandKind]);

/** Adds a target type (plugins, tests); the plan schema is rebuilt to accept it. */
export function registerTargetKind(kind: TargetKind): void {
  targetKinds.register(kind);
}
