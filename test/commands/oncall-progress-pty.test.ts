/**
 * Progress in a real terminal (issue 17): against a flag API that accepts connections and never
 * answers, `status` and `rollback --emergency` say what they wait for, attempt n/m and time left,
 * long before they give up, instead of a blank screen; the line is gone once the answer is printed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { useTestServer } from '../helpers/http-server.js';
import { openTerminal, type Terminal } from '../helpers/tmux.js';

// Never answers: each request hangs until the client gives up.
const silent = useTestServer(() => undefined);
let terminal: Terminal | undefined;

afterEach(() => terminal?.close());

function planDir(): string {
  const url = silent.server.url;
  const dir = mkdtempSync(join(tmpdir(), 'rollout-progress-pty-'));
  writeFileSync(
    join(dir, 'rollout.yaml'),
    `version: 1
name: silent
stages: [10, 50, 100]
analysis: { interval: 1s, bake: 0s }
sources:
  app: { type: json, url: "${url}/metrics.json", timeout: 3s }
metrics:
  - { name: error_rate, source: app, path: errorRate, unit: ratio, warning: "> 1%", critical: "> 5%" }
target:
  type: http
  set: { method: PUT, url: "${url}/flag", body: { percentage: "{{percent}}" } }
  get: { url: "${url}/flag", path: percentage }
  timeout: 4s
  retries: 1
`,
  );
  return dir;
}

it('status shows the wait for the flag API on the terminal while it lasts, then the table without it', async () => {
  terminal = openTerminal(`node ${BIN} status; echo "exit=$?"`, { cwd: planDir() });
  // Each attempt may take 4 s and there are two: the line must show while they last.
  const waiting = await terminal.waitFor(/waiting for an answer from GET http:\/\/127\.0\.0\.1:\d+\/flag: attempt [12]\/2, \d+s left/);
  expect(waiting).not.toMatch(/exit=/);
  const done = await terminal.waitFor(/exit=\d/, 30_000);
  expect(done).toMatch(/target unreadable: GET http:\/\/127\.0\.0\.1:\d+\/flag: no complete answer/);
  expect(done).not.toMatch(/waiting for an answer/);
  expect(silent.server.requests.filter((r) => r.url === '/flag')).toHaveLength(2);
});

it('rollback --emergency shows each call it waits for, then says it could not set 0 % and exits 6', async () => {
  terminal = openTerminal(`node ${BIN} rollback --emergency --yes --call-timeout 6s; echo "exit=$?"`, { cwd: planDir() });
  const waiting = await terminal.waitFor(/waiting for an answer from PUT http:\/\/127\.0\.0\.1:\d+\/flag: attempt \d\/\d, \d+s left/);
  expect(waiting).not.toMatch(/exit=/);
  const done = await terminal.waitFor(/exit=\d/, 30_000);
  expect(done).toMatch(/could not set the target to 0%/);
  expect(done).toMatch(/exit=6/);
  expect(done).not.toMatch(/waiting for an answer/);
  expect(silent.server.requests.some((r) => r.method === 'PUT' && r.url === '/flag')).toBe(true);
});
