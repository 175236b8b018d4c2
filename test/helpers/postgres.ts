/**
 * A real, throwaway PostgreSQL server for store tests: initdb into a temp dir, started on
 * 127.0.0.1 at a free port with password (SCRAM) auth, so tests see what a team's database does.
 * Uses the Debian `postgresql` package, installing it when missing; as root (CI), the server runs
 * as the `postgres` system user because PostgreSQL refuses to run as root.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const exec = promisify(execFile);

/** A running test server. */
export interface TestPostgres {
  /** `postgres://rollout:<password>@127.0.0.1:<port>/postgres` */
  url: string;
  /** The password in clear, to assert it never shows in messages. */
  password: string;
  /** Stops the server (fast shutdown), keeping its data so `restart` can bring it back. */
  stop(): Promise<void>;
  /** Starts a stopped server again on the same port. */
  restart(): Promise<void>;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server if running and removes its directory. */
  destroy(): Promise<void>;
}

const isRoot = process.getuid?.() === 0;

/** The newest installed server's bin dir, preferring 15 (what CI installs). */
function findBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  const chosen = versions.includes('15') ? '15' : versions[0];
  return chosen && join(root, chosen, 'bin');
}

/** Installs the Debian package once per machine; flock keeps parallel test files from racing apt. */
async function ensureBinDir(): Promise<string> {
  const found = findBinDir();
  if (found) return found;
  if (!isRoot) throw new Error('PostgreSQL is not installed: apt-get install postgresql');
  await exec(
    'flock',
    [
      '/tmp/rollout-test-postgres-install.lock',
      'sh',
      '-c',
      'ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ' +
        '(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)',
    ],
    { timeout: 600_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const installed = findBinDir();
  if (!installed) throw new Error('apt-get install postgresql did not provide initdb');
  return installed;
}

/** Runs a server binary, as the postgres user when we are root. */
async function runPg(bin: string, args: string[]): Promise<void> {
  const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  await exec(cmd, argv, { timeout: 120_000 });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts a fresh server; call `destroy()` in afterAll. */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = await ensureBinDir();
  if (isRoot) {
    await exec('id', ['-u', 'postgres']).catch(() =>
      exec('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']),
    );
  }
  // /tmp, not $TMPDIR: the postgres user must reach it, and the socket path must stay short.
  const dir = await mkdtemp('/tmp/rollout-pg-');
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  // Characters that must be URL-encoded, so redaction is tested on both forms.
  const password = `pw/${randomBytes(6).toString('hex')}@x`;
  await writeFile(join(dir, 'pwfile'), password);
  if (isRoot) await exec('chown', ['-R', 'postgres:', dir]);
  await chmod(dir, 0o700);
  await runPg(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'rollout',
    `--pwfile=${join(dir, 'pwfile')}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '--no-sync',
    '--no-instructions',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  const port = await freePort();
  let running = false;

  async function start(): Promise<void> {
    // Durability settings off: these databases live for one test file.
    const serverOptions = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    try {
      await runPg(join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-w', '-t', '60', '-o', serverOptions, 'start']);
    } catch (err) {
      const tail = await readFile(log, 'utf8').catch(() => '');
      throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${tail.slice(-2000)}`);
    }
    running = true;
  }

  async function stop(): Promise<void> {
    if (!running) return;
    await runPg(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
    running = false;
  }

  await start();
  const base = `postgres://rollout:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  return {
    url: `${base}/postgres`,
    password,
    stop,
    restart: start,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: `${base}/postgres` });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return `${base}/${name}`;
    },
    async destroy() {
      await stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
