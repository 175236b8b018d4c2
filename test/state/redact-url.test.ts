/** Connection strings in messages: no part of a password shows, however it is written. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { passwordsOf, redactUrl } from '../../src/state/redact-url.js';
import { runCli } from '../helpers/cli.js';

describe('redactUrl', () => {
  it.each([
    ['postgres://u:hunter2@db:5432/app', 'postgres://u:***@db:5432/app'],
    ['postgres://u:p%2Fw%40x@db/app?sslmode=require', 'postgres://u:***@db/app?sslmode=require'],
    ['postgresql://db/app?user=u&password=hunter2', 'postgresql://db/app?user=u&password=***'],
    ['postgres://db/app', 'postgres://db/app'],
    ['not a url password=hunter2', 'not a url password=***'],
    // Unencoded, so that URL parsers cut the password elsewhere: ":12/" reads as a port and a path.
    ['postgres://u:12/s3cr3t@db:5432/app', 'postgres://u:***@db:5432/app'],
    ['postgres://u:p#ss?w0rd@db/app', 'postgres://u:***@db/app'],
    ['postgres://u:p@ss@w0rd@db/app', 'postgres://u:***@db/app'],
  ])('%s → %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('finds the same passwords, to be redacted from every message', () => {
    expect(passwordsOf('postgres://u:12/s3cr3t@db:5432/app?sslpassword=k3y&x=1')).toEqual(['12/s3cr3t', 'k3y']);
    expect(passwordsOf('postgres://db/app')).toEqual([]);
  });
});

it('an unencoded password in ROLLOUT_STATE_URL shows in no part of the CLI error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-pgurl-'));
  writeFileSync(join(dir, 'rollout.yaml'), 'version: 1\nname: pg\nstages: [10, 100]\ntarget: { type: command, set: [echo, "{{percent}}"] }\n');
  // The driver reads "12" as a port of host "u": the connection fails, and its error names the URL.
  const r = await runCli(['status', '--json'], { cwd: dir, env: { ROLLOUT_STATE_URL: 'postgres://u:12/s3cr3t-pw@127.0.0.1:1/db' } });
  expect(r.code).toBe(6);
  expect(r.stderr).toContain('PostgreSQL state store postgres://u:***@127.0.0.1:1/db');
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/s3cr3t|12\//);
});
