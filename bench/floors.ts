/**
 * Benchmark 8, for information: the floors under the start-up targets of benchmarks 1 and 2. Each
 * floor is an entry of bench/floors/ built by scripts/build.mjs exactly as the CLI is and run by a
 * copy of bin/rollout.js (code cache warm, as in benchmark 1), doing only part of what a command
 * must do, timed in the same rounds as `node -e 0`:
 * - nothing: Node, bin/rollout.js and a bundle with its code cache;
 * - the YAML parse of docflow-canary.yaml, which `validate` (and every command reading a plan)
 *   starts with when the plan is not in its plan cache (src/plan/parse-cache.ts), without any
 *   check or output;
 * - one PUT through rollout's HTTP client (undici), the network work of `rollback --emergency`;
 * - both, in turn: less than `rollback --emergency` or `status` does for a plan not in the cache.
 * A command cannot be faster than a floor under it, nor take less memory, so a floor above a
 * target shows the target cannot be met without giving up what the floor holds (bench/README.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeService } from '../test/helpers/fake-service.js';
import { installFloor } from './floors/install.js';
import { cleanEnv, formatBytes, median, nodeCommand, peakRss, PROCESS_RUNS, progress, ratioRow, REPO, report, timeInterleaved, type TimedCommand } from './lib.js';

const PLAN = join(REPO, 'rollout-plans/docflow-canary.yaml');

const dir = mkdtempSync(join(tmpdir(), 'rollout-bench-floors-'));
const flag = await startFakeService();
try {
  // The floors' code caches live here, not among the user's.
  const env = cleanEnv({ XDG_CACHE_HOME: join(dir, 'cache') });
  progress('building the floors');
  const floor = (label: string, name: string, args: string[]): TimedCommand => nodeCommand(label, [installFloor(REPO, dir, name), 'floor', ...args], { env });
  const putUrl = `${flag.url}/flag`;
  const commands = [
    nodeCommand('node -e 0', ['-e', '0']),
    floor('nothing', 'nothing', []),
    floor('YAML parse of the plan', 'plan', [PLAN]),
    floor('one PUT', 'request', [putUrl]),
    floor('YAML parse + one PUT', 'plan-and-request', [PLAN, putUrl]),
  ];
  const [zero, ...floors] = (await timeInterleaved(commands)).map(median) as [number, ...number[]];
  // Every run, warm-ups included, of the two floors that send it must have sent the PUT.
  const puts = flag.server.requests.filter((r) => r.method === 'PUT').length;
  if (puts < 2 * (PROCESS_RUNS + 2)) throw new Error(`the floors sent ${puts} PUTs in ${2 * (PROCESS_RUNS + 2)} runs`);

  const reference = { label: 'node -e 0', ms: zero };
  const under = [
    'every command',
    '`validate` of a plan not in its plan cache (≤ 1.5×)',
    '`rollback --emergency` and `status` (≤ 2×, ≤ 2.5×)',
    'both, for a plan not in their plan cache',
  ];
  floors.forEach((ms, i) => report(ratioRow(`floor: ${commands[i + 1]!.label}, under ${under[i]} (info)`, { ms }, reference)));

  const zeroRss = await peakRss(commands[0]!);
  for (const command of commands.slice(1)) {
    const bytes = await peakRss(command);
    report({ benchmark: `floor peak RSS: ${command.label} (info; target of the commands ≤ 50 MB)`, measured: formatBytes(bytes), reference: `${formatBytes(zeroRss)} (node -e 0)`, ratio: bytes / zeroRss });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  await flag.close();
}
