/** The operator at a real terminal: the confirmation prompt answered by keys, the status table seen. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { servicePlan, startFakeService, type FakeService } from '../helpers/fake-service.js';
import { openTerminal, type Terminal } from '../helpers/tmux.js';

let service: FakeService;
let terminal: Terminal | undefined;

afterEach(async () => {
  terminal?.close();
  await service?.close();
});

it('asks before advancing, applies on "y", and the status table shows the stage and metrics', async () => {
  service = await startFakeService();
  const dir = mkdtempSync(join(tmpdir(), 'rollout-pty-'));
  writeFileSync(join(dir, 'rollout.yaml'), servicePlan(service));
  const env = { APP_TOKEN: 'pty-token', ROLLOUT_ACTOR: 'pat', NO_COLOR: '1' };

  terminal = openTerminal(`node ${BIN} advance`, { cwd: dir, env });
  await terminal.waitFor(/Advance e2e: 0% → 10% \(stage 1\/5\)\?/);
  expect(service.percentage).toBe(0);
  terminal.send('y', 'Enter');
  await terminal.waitFor(/advanced e2e: 0% → 10%/);
  expect(service.percentage).toBe(10);
  terminal.close();

  terminal = openTerminal(`node ${BIN} advance`, { cwd: dir, env });
  await terminal.waitFor(/Advance e2e: 10% → 25%/);
  terminal.send('n', 'Enter');
  await terminal.waitFor(/not confirmed; nothing changed/);
  expect(service.percentage).toBe(10);
  terminal.close();

  terminal = openTerminal(`node ${BIN} status`, { cwd: dir, env });
  const screen = await terminal.waitFor(/next: advance possible now/);
  expect(screen).toMatch(/e2e {2}stage 1\/5 at 10%/);
  expect(screen).toMatch(/│ metric\s+│ value\s+│ warning\s+│ critical\s+│ reading\s+│ trend/);
  expect(screen).toMatch(/│ error_rate\s+│ 0\.1%\s+│ > 1%\s+│ > 5%\s+│ ok/);
  expect(screen).toMatch(/verdict: HEALTHY/);
});
