/** `rollout check` never reads a dead source as healthy, whatever the source type. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { closedPort } from '../helpers/http-server.js';

describe('a plan pointing at a port where nothing listens', () => {
  it.each([
    ['prometheus', 'query: up'],
    ['json', 'path: result.errorRate'],
    ['exposition', 'expr: sum(rate(http_requests_total))'],
  ])('%s: holds with "connection refused", never healthy (exit 3)', async (type, field) => {
    const port = await closedPort();
    const dir = mkdtempSync(join(tmpdir(), 'rollout-dead-'));
    writeFileSync(
      join(dir, 'rollout.yaml'),
      `version: 1
name: dead-${type}
stages: [10, 100]
sources: { s: { type: ${type}, url: "http://127.0.0.1:${port}/x", timeout: 20s } }
metrics: [{ name: m, source: s, ${field}, unit: ratio, critical: "> 5%" }]
target: { type: command, set: [echo, "{{percent}}"] }
`,
    );
    const r = await runCli(['check', '--json'], { cwd: dir });
    expect(r.code).toBe(3);
    const result = JSON.parse(r.stdout) as { verdict: string; readings: { status: string; reason: string }[] };
    expect(result.verdict).toBe('hold');
    expect(result.readings[0]).toMatchObject({ status: 'nodata', reason: expect.stringContaining('connection refused') });
    const table = await runCli(['check'], { cwd: dir });
    expect(table.code).toBe(3);
    expect(table.stdout).toMatch(/verdict: HOLD — m has no data \(.*connection refused/);
  });

  it('under noData: rollback, a dead source is critical (exit 4)', async () => {
    const port = await closedPort();
    const dir = mkdtempSync(join(tmpdir(), 'rollout-dead-'));
    writeFileSync(
      join(dir, 'rollout.yaml'),
      `version: 1
name: dead-strict
stages: [10, 100]
analysis: { noData: rollback }
sources: { s: { type: prometheus, url: "http://127.0.0.1:${port}" } }
metrics: [{ name: m, source: s, query: up, critical: "> 5" }]
target: { type: command, set: [echo, "{{percent}}"] }
`,
    );
    expect((await runCli(['check'], { cwd: dir })).code).toBe(4);
  });
});
