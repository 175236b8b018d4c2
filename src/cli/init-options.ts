/**
 * The options of `rollout init` that answer its questions. The source and target types bring their own
 * (src/sources/kinds/, src/targets/kinds/), so these are added only when `init` is what runs:
 * other commands, `--help` and usage errors do not load the types' registries.
 */
import type { Command } from 'commander';
import { COMMON_METRICS, offeredByInit } from '../commands/init-plan.js';
import { sourceKinds } from '../sources/kinds/index.js';
import { targetKinds } from '../targets/kinds/index.js';

/** Adds an option per question of `rollout init` to `command` (which has --output and --force), then --json and --no-color. */
export function addInitOptions(command: Command): void {
  const targets = targetKinds.all().filter(offeredByInit);
  const sources = sourceKinds.all().filter(offeredByInit);
  command
    .option('--name <name>', 'rollout name: lower-case letters, digits, dashes')
    .option('--target <type>', `how the percentage is applied: ${targets.map((kind) => kind.type).join(' | ')}`);
  for (const kind of targets) {
    for (const q of kind.init.questions) command.option(`${q.flag} ${q.arg}`, `${kind.type}: ${q.help}`);
  }
  command
    .option('--stages <list>', 'comma-separated percentages ending at 100 (default 10,25,50,75,100)')
    .option('--bake <duration>', 'how long each stage must stay healthy (default 30m)')
    .option('--source <type>', `metrics source: ${[...sources.map((kind) => kind.type), 'none'].join(' | ')}`)
    .option('--source-url <url>', 'URL of the metrics source')
    .option('--source-token-env <var>', 'variable holding a bearer token for the source')
    .option('--metrics <list>', `${Object.keys(COMMON_METRICS).join(',')} (default all; none for none)`);
  for (const metric of Object.values(COMMON_METRICS)) {
    command.option(`--${metric.flag}-warning <limit>`, `default "${metric.warning}"`).option(`--${metric.flag}-critical <limit>`, `default "${metric.critical}"`);
  }
  command.option('--json', 'machine-readable output', false).option('--no-color', 'no colours');
}
