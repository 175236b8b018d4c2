// A real Unleash server for tests, run as a child process by test/helpers/unleash.ts: it listens on
// 127.0.0.1 at a free port, keeps its data in the PostgreSQL database named by UNLEASH_TEST_DB,
// accepts the admin token UNLEASH_TEST_TOKEN, makes no call beyond 127.0.0.1 (no version check,
// no telemetry), and prints {"port": n} once it serves. Its parent ends it with SIGKILL.
import { start } from 'unleash-server';

const db = new URL(process.env.UNLEASH_TEST_DB ?? '');
const unleash = await start({
  db: {
    host: db.hostname,
    port: Number(db.port),
    user: decodeURIComponent(db.username),
    password: decodeURIComponent(db.password),
    database: db.pathname.slice(1),
    ssl: false,
  },
  server: { host: '127.0.0.1', port: 0 },
  versionCheck: { enable: false },
  telemetry: false,
  logLevel: 'error',
  authentication: {
    initApiTokens: [{ environment: '*', project: '*', secret: process.env.UNLEASH_TEST_TOKEN, type: 'admin', tokenName: 'rollout-tests' }],
  },
});
process.stdout.write(`${JSON.stringify({ port: unleash.server.address().port })}\n`);
