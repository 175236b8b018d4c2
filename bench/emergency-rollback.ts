/**
 * Benchmark 2, the break-glass path: `rollout rollback --emergency` as a whole process against a
 * local HTTP flag API, timed in the same rounds as `node -e 0` (target ≤ 2×) and as `curl`
 * sending the same PUT (reported, no target: it shows what the CLI adds to the one request that
 * stops the harm). The plan's target is a PUT with no read-back and no emergency actions, so the
 * network work of both is that one PUT; rollout also takes the lock and writes state and history.
 * Its peak RSS is measured apart (target ≤ 50 MB).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeService } from '../test/helpers/fake-service.js';
import { atMost, cleanEnv, MAX_RSS_MB, median, nodeCommand, peakRss, PROCESS_RUNS, ratioRow, report, rolloutCommand, rssRow, timeInterleaved } from './lib.js';

const flag = await startFakeService();
const dir = mkdtempSync(join(tmpdir(), 'rollout-bench-emergency-'));
try {
  writeFileSync(
    join(dir, 'rollout.yaml'),
    `version: 1
name: bench-emergency
stages: [10, 50, 100]
target:
  type: http
  set: { method: PUT, url: "${flag.url}/flag", body: { percentage: "{{percent}}" } }
  retries: 0
`,
  );
  const commands = [
    nodeCommand('node -e 0', ['-e', '0']),
    rolloutCommand(['rollback', '--emergency'], { cwd: dir }),
    {
      label: 'curl -X PUT',
      file: 'curl',
      args: ['-sS', '--fail', '-X', 'PUT', '-H', 'content-type: application/json', '--data', '{"percentage":0}', `${flag.url}/flag`],
      env: cleanEnv(),
    },
    rolloutCommand(['rollback', '--emergency'], { cwd: dir, env: cleanEnv({ ROLLOUT_CODE_CACHE: 'off' }) }),
  ];
  const [zero, rollback, curl, cold] = (await timeInterleaved(commands)).map(median) as [number, number, number, number];
  // Every run, warm-ups included, must have reached the flag API: a run that failed fast must not pass for a fast one.
  const rolloutPuts = flag.server.requests.filter((r) => r.method === 'PUT' && r.headers['user-agent']?.startsWith('curl') !== true).length;
  if (rolloutPuts < 2 * PROCESS_RUNS) throw new Error(`rollout sent ${rolloutPuts} PUTs in ${2 * PROCESS_RUNS} runs`);

  report(ratioRow('emergency rollback vs node -e 0', { ms: rollback }, { label: 'node -e 0', ms: zero }, (r) => atMost(2.0, r)));
  report(ratioRow('emergency rollback vs curl (info)', { ms: rollback }, { label: 'curl, same PUT', ms: curl }));
  report(ratioRow('emergency rollback without the code cache (info)', { ms: cold }, { label: 'node -e 0', ms: zero }));
  const [zeroRss, rollbackRss] = [await peakRss(commands[0]!), await peakRss(commands[1]!)];
  report(rssRow('peak RSS: rollout rollback --emergency', rollbackRss, zeroRss, MAX_RSS_MB));
} finally {
  rmSync(dir, { recursive: true, force: true });
  await flag.close();
}
