/** The metric source types a plan may name. Adding one: a file beside this one, and one line here. */
import { KindRegistry } from '../../plan/kind-registry.js';
import { expositionKind } from './exposition.js';
import { jsonKind } from './json.js';
import type { SourceKind } from './kind.js';
import { postgresKind } from './postgres.js';
import { prometheusKind } from './prometheus.js';

/** Every source type, in the order the schema and `rollout init` list them. */
export const sourceKinds = new KindRegistry<SourceKind>('source', [prometheusKind, jsonKind, expositionKind, postgresKind]);

/** Adds a source type (plugins, tests); the plan schema is rebuilt to accept it. */
export function registerSourceKind(kind: SourceKind): void {
  sourceKinds.register(kind);
}
