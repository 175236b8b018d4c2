/**
 * Progress lines for network waits (issue 17): the retrying HTTP client tells its injected
 * `onWait` what it waits for, attempt n/m and time left, against a real local server that never
 * answers; the line is drawn on a terminal only; the emergency's attempts fit its call deadline.
 */
import { describe, expect, it } from 'vitest';
import { memoryOutput } from '../../src/cli/output.js';
import { createProgress, describeWait, showWaits } from '../../src/cli/progress.js';
import { systemClock } from '../../src/clock.js';
import { rollbackCommand } from '../../src/commands/rollback.js';
import type { CommandContext } from '../../src/context.js';
import { sendWithRetries, type NetworkWait } from '../../src/net/retry.js';
import { useTestServer } from '../helpers/http-server.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Never answers: each request is left hanging until the client gives up.
const silent = useTestServer(() => undefined);

describe('network waits', () => {
  it('a wait past a second is reported every second with attempt n/m and time left, then cleared', async () => {
    const waits: (NetworkWait | undefined)[] = [];
    const failed = await sendWithRetries(
      { url: `${silent.server.url}/flag?token=x`, method: 'GET', headers: {}, timeoutMs: 2_500 },
      { retries: 1, random: () => 0, onWait: (w) => waits.push(w) },
    ).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    expect(silent.server.requests).toHaveLength(2);
    const seen = waits.filter((w): w is NetworkWait => w !== undefined);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen[0]).toMatchObject({ what: `GET ${silent.server.url}/flag`, phase: 'answer', attempt: 1, attempts: 2 });
    expect(seen.some((w) => w.attempt === 2)).toBe(true);
    expect(seen[0]?.leftMs).toBeLessThanOrEqual(1_500);
    expect(waits.at(-1)).toBeUndefined();
  });

  it('a quick answer reports nothing', async () => {
    silent.server.handle((_req, res) => {
      res.writeHead(200).end('{}');
    });
    const waits: unknown[] = [];
    await sendWithRetries({ url: silent.server.url, method: 'GET', headers: {}, timeoutMs: 2_000 }, { retries: 0, onWait: (w) => waits.push(w) });
    expect(waits).toEqual([]);
  });

  it('the line is drawn in place on a terminal, redacted, and not at all elsewhere', () => {
    const written: string[] = [];
    const tty = createProgress({ isTTY: true, write: (t) => written.push(t) });
    const onWait = showWaits(tty);
    onWait?.({ what: 'PUT http://127.0.0.1/flag', phase: 'answer', attempt: 2, attempts: 4, leftMs: 7_200 });
    onWait?.(undefined);
    expect(written).toEqual(['\r\x1b[Kwaiting for an answer from PUT http://127.0.0.1/flag: attempt 2/4, 7s left', '\r\x1b[K']);
    const piped: string[] = [];
    createProgress({ isTTY: false, write: (t) => piped.push(t) }).show('x');
    expect(piped).toEqual([]);
    expect(describeWait({ what: 'GET u', phase: 'backoff', attempt: 3, attempts: 4, leftMs: 200 })).toBe('retrying GET u: attempt 3/4, 1s left');
  });

  it('on a terminal of known width the line is cut to it, never wrapped: `\\r\\x1b[K` clears one row only', async () => {
    const narrow: string[] = [];
    const progress = createProgress({ isTTY: true, columns: 30, write: (t) => narrow.push(t) });
    // Cleared at once (perhaps before the cutter loaded): never drawn late, under what came next.
    progress.show('a line cleared at once');
    progress.clear();
    progress.show('waiting for an answer from PUT http://127.0.0.1/flag: attempt 2/4');
    await expect.poll(() => narrow.at(-1)).toBe('\r\x1b[Kwaiting for an answer from P…');
    const early = narrow.findIndex((t) => t.includes('cleared at once'));
    if (early >= 0) expect(narrow[early + 1]).toBe('\r\x1b[K');
    narrow.length = 0;
    progress.show('waiting for an answer from PUT http://127.0.0.1/flag: attempt 3/4');
    progress.clear();
    expect(narrow).toEqual(['\r\x1b[Kwaiting for an answer from P…', '\r\x1b[K']);
  });
});

describe('the emergency against a flag API that never answers', () => {
  it('retries within its call deadline (attempts of a third of it) and shows each wait', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'em-progress-'));
    writeFileSync(
      join(dir, 'rollout.yaml'),
      `version: 1\nname: hung\nstages: [10, 100]\ntarget:\n  type: http\n  set: { method: PUT, url: "${silent.server.url}/flag", body: { p: "{{percent}}" } }\n  timeout: 30s\n  retries: 5\n`,
    );
    const shown: string[] = [];
    const ctx: CommandContext = {
      out: memoryOutput(),
      prompter: { interactive: false, confirm: async () => false } as unknown as CommandContext['prompter'],
      clock: systemClock,
      env: { ROLLOUT_ACTOR: 'oncall' },
      signal: new AbortController().signal,
      progress: { show: (t) => shown.push(t), clear: () => undefined },
    };
    const err = await rollbackCommand({ plan: join(dir, 'rollout.yaml'), json: false, emergency: true, callTimeout: '6s' }, ctx).catch((e: unknown) => e);
    expect((err as { exitCode?: number }).exitCode).toBe(6);
    // 30 s per attempt would mean one PUT in the 6 s deadline; a third of it means at least two.
    expect(silent.server.requests.filter((r) => r.method === 'PUT').length).toBeGreaterThanOrEqual(2);
    expect(shown.some((line) => /^waiting for an answer from PUT http:\/\/127\.0\.0\.1:\d+\/flag: attempt 1\/6, \d+s left$/.test(line))).toBe(true);
  });
});
