/**
 * stdout and stderr (src/stdio.ts): written directly to a regular file, through Node's stream to a
 * pipe; whole, in order, never waiting on a reader that stopped, never cut short at exit, and a
 * failed write (a full disk) reported with exit 1.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stdStream, whenOutputCloses } from '../../src/stdio.js';
import { BIN } from '../helpers/cli.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rollout-stdout-'));
});
afterEach(() => {
  whenOutputCloses(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** A named pipe: its read end (non-blocking, so that opening does not wait) and a blocking write end, as a shell pipeline gives. */
function namedPipe(): { read: number; write: number } {
  const path = join(dir, 'fifo');
  execFileSync('mkfifo', [path]);
  const read = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  return { read, write: openSync(path, constants.O_WRONLY) };
}

/** Reads what `fd` (non-blocking) holds until `length` bytes have come. */
async function readAll(fd: number, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const deadline = Date.now() + 20_000;
  while (total < length && Date.now() < deadline) {
    const chunk = Buffer.alloc(65536);
    let n = 0;
    try {
      n = readSync(fd, chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
    if (n > 0) chunks.push(chunk.subarray(0, n));
    else await new Promise((resolve) => setTimeout(resolve, 10));
    total += n;
  }
  return Buffer.concat(chunks);
}

/** Node's stream over a pipe's write end, as process.stdout is for a pipe. */
const socketOver = (fd: number) => () => new Socket({ fd, readable: false, writable: true }) as unknown as NodeJS.WriteStream;

/**
 * src/stdio.ts as a CommonJS module, for a child process: a write that waits for a reader blocks
 * the whole process, which a test must see from outside (and kill) rather than hang on.
 */
function stdioModule(): string {
  const built = buildSync({ entryPoints: [fileURLToPath(new URL('../../src/stdio.ts', import.meta.url))], bundle: true, platform: 'node', format: 'cjs', write: false });
  return built.outputFiles[0]!.text;
}

describe('a pipe', () => {
  it('takes 100 KB nobody is reading without waiting (Node queues what the pipe does not hold), then delivers all of it in order', async () => {
    const pipe = namedPipe();
    writeFileSync(join(dir, 'stdio.cjs'), stdioModule());
    // The child writes 1,000 lines of 100 bytes to its stdout (the pipe, as a shell gives it), says
    // on stderr when the writes have returned, then waits for its queued output to go.
    const script = `const { stdStream } = require('./stdio.cjs');
const out = stdStream(1, () => new (require('node:net').Socket)({ fd: 1, readable: false, writable: true }));
for (let i = 0; i < 1000; i++) out.write(String(i).padStart(4, '0') + ' ' + 'x'.repeat(94) + '\\n');
process.stderr.write('returned\\n');
out.flushed().then(() => process.exit(0));`;
    const child = spawn(process.execPath, ['-e', script], { cwd: dir, stdio: ['ignore', pipe.write, 'pipe'] });
    closeSync(pipe.write);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    try {
      const returned = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 10_000);
        child.stderr!.on('data', () => stderr.includes('returned') && (clearTimeout(timer), resolve(true)));
      });
      // Written directly, the writes would wait for the pipe (64 KB) to be read, and never return.
      expect(returned).toBe(true);
      const received = await readAll(pipe.read, 100_000);
      expect(await exited).toBe(0);
      expect(received.toString()).toBe(Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(4, '0')} ${'x'.repeat(94)}\n`).join(''));
    } finally {
      child.kill('SIGKILL');
      closeSync(pipe.read);
    }
  }, 30_000);

  it('is not a terminal, and has no size', () => {
    const pipe = namedPipe();
    const out = stdStream(pipe.write, socketOver(pipe.write));
    expect(out.isTTY).toBe(false);
    expect(out.columns).toBeUndefined();
    closeSync(pipe.read);
    closeSync(pipe.write);
  });

  it('whose reader has gone reports EPIPE once, as the reader leaving (no failure), and drops what is written after', async () => {
    const pipe = namedPipe();
    const closed: string[] = [];
    whenOutputCloses((err) => closed.push(err.code ?? err.message));
    const out = stdStream(pipe.write, socketOver(pipe.write));
    closeSync(pipe.read);
    out.write('first\n');
    await out.flushed();
    out.write('second\n');
    await out.flushed();
    expect(closed).toEqual(['EPIPE']);
    expect(out.failure).toBeUndefined();
  });
});

describe('a file', () => {
  it('is written directly, whole, however much', () => {
    const path = join(dir, 'out.txt');
    const fd = openSync(path, 'w');
    const out = stdStream(fd, () => {
      throw new Error('a file needs no stream');
    });
    for (let i = 0; i < 2000; i++) out.write(`${i}\n`);
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe(Array.from({ length: 2000 }, (_, i) => `${i}\n`).join(''));
    expect(out.failure).toBeUndefined();
  });
});

describe('the CLI', () => {
  /** A valid plan whose `validate --json` document is about 70 KB: more than a pipe holds. */
  function largePlan(): string {
    const metrics = Array.from({ length: 380 }, (_, i) =>
      `  - {name: metric-${String(i).padStart(4, '0')}-${'n'.repeat(200)}, source: prom, query: 'sum(rate(http_requests_total{route="/api/${i}/${'a'.repeat(60)}"}[5m]))', unit: percent, warning: '> 1%', critical: '> 5%'}`,
    );
    return ['version: 1', 'name: large', 'stages: [10, 100]', 'sources:', "  prom: {type: prometheus, url: 'http://127.0.0.1:9/'}", 'metrics:', ...metrics, 'target: {type: env-file, path: .env, key: ROLLOUT_PERCENT}', ''].join('\n');
  }

  it('says so, and exits 1, when its output cannot be written: a full device, a file over its size limit', async () => {
    writeFileSync(join(dir, 'rollout.yaml'), 'version: 1\nname: full\nstages: [10, 100]\ntarget:\n  type: env-file\n  path: .env\n  key: PERCENT\n');
    const shell = (line: string) =>
      new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile('bash', ['-c', line], { cwd: dir, env: { ...process.env, CI: 'true' } }, (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stderr })),
      );
    for (const args of ['schema', 'validate']) {
      const full = await shell(`node ${BIN} ${args} > /dev/full`);
      expect([args, full.code]).toEqual([args, 1]);
      expect(full.stderr).toMatch(/^error: cannot write stdout: ENOSPC/m);
    }
    // A failed stderr (the warnings of unset variables) is not said on stdout, which holds the --json document.
    writeFileSync(join(dir, 'warned.yaml'), 'version: 1\nname: warned\nstages: [10, 100]\ntarget:\n  type: http\n  set: { url: "http://127.0.0.1:9/flag", headers: { Authorization: "Bearer ${UNSET_TOKEN_FOR_THIS_TEST}" } }\n');
    const json = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile('bash', ['-c', `node ${BIN} validate warned.yaml --json 2> /dev/full`], { cwd: dir, env: { ...process.env, CI: 'true' } }, (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout })),
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: 'validate', valid: true });
    // `--version` is answered by bin/rollout.js alone, as quietly.
    const version = await shell(`node ${BIN} --version > /dev/full`);
    expect(version.code).toBe(1);
    expect(version.stderr).toMatch(/^error: cannot write stdout: ENOSPC/m);
    // A regular file, written directly: 10 blocks allowed, the schema is about 29 KB.
    const limited = await shell(`trap '' XFSZ; ulimit -f 10; node ${BIN} schema > schema.json`);
    expect(limited.code).toBe(1);
    expect(limited.stderr).toMatch(/^error: cannot write stdout: EFBIG/m);
  }, 30_000);

  it('writes a document larger than a pipe whole to a reader that starts late (it was cut at 64 KB)', async () => {
    writeFileSync(join(dir, 'rollout.yaml'), largePlan());
    const line = `node ${BIN} validate --json rollout.yaml | (sleep 1; cat) > out.json`;
    await new Promise<void>((resolve, reject) => execFile('bash', ['-c', line], { cwd: dir, env: { ...process.env, CI: 'true' } }, (err) => (err ? reject(err) : resolve())));
    const text = readFileSync(join(dir, 'out.json'), 'utf8');
    expect(text.length).toBeGreaterThan(65_536);
    const document = JSON.parse(text) as { valid: boolean; metrics: unknown[] };
    expect(document.valid).toBe(true);
    expect(document.metrics).toHaveLength(380);
  }, 30_000);
});
