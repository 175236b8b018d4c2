/**
 * No form of a secret leaves the process: the built CLI runs check, advance, run, rollback, history
 * and report (with and without --json, under GitHub Actions with a step summary) against real local
 * servers that echo every secret back — in error bodies, a redirect's Location, a missing JSON path,
 * a query parse error, a metric's name, and the URL of the flag API and the webhook themselves.
 * Then stdout, stderr, every file under the state dir and the step summary are searched for each
 * secret in raw, trimmed, percent-encoded, URL-path, form, JSON-escaped and base64 forms.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { sendJson, startTestServer, type TestServer } from '../helpers/http-server.js';

// A quote and a backslash (JSON and XML escape them), a space, "/", "+", "&" and "=" (each
// percent-encoding treats them differently), ":", "%" and "," (GitHub annotations escape them); no
// ".", "[" or "]", so that it also fits in a JSON path.
const SECRET = 'Tok"en\\ x/y+z&w=1:50%,-s3cr3t';
const PASS = 'p4ss-w0rd_XYZ';
const BASIC = Buffer.from(`admin:${PASS}`).toString('base64');
// Whole URLs that the URL parser normalises: upper-case scheme, a query, a trailing newline.
const FLAG_PATH = 'fl4g-T0KEN-path';
const HOOK_PATH = 'h00k-T0KEN-path';

let app: TestServer;
/** The origin the basic-auth source redirects to: it must never be asked anything. */
let elsewhere: TestServer;
let dir: string;
let summary: string;
let percentage = 0;
let rejectNextPut = true;
const outputs: CliResult[] = [];

const authOf = (headers: Record<string, string | string[] | undefined>) => String(headers.authorization ?? '');

beforeAll(async () => {
  elsewhere = await startTestServer((_req, res) => void res.writeHead(200).end('{}'));
  app = await startTestServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/prom/api/v1/query') {
      return sendJson(res, 400, { status: 'error', errorType: 'bad_data', error: `parse error in ${url.searchParams.get('query')}` });
    }
    if (url.pathname === '/basic/m.json') {
      // Echoes the Authorization header, percent-encoded, into a Location on another origin.
      return void res.writeHead(302, { location: `${elsewhere.url}/login/${encodeURIComponent(authOf(req.headers))}` }).end();
    }
    if (url.pathname === '/plain/m.json') return sendJson(res, 200, { result: { other: 1 } });
    if (url.pathname.endsWith('/m.json')) return sendJson(res, 401, { error: `token rejected: ${authOf(req.headers)}` });
    if (url.pathname === `/flags/${FLAG_PATH}`) {
      if (req.method === 'PUT') {
        if (rejectNextPut) {
          rejectNextPut = false;
          return sendJson(res, 400, { error: 'bad token', got: authOf(req.headers) });
        }
        percentage = (JSON.parse(req.body) as { percentage: number }).percentage;
      }
      return sendJson(res, 200, { percentage });
    }
    if (url.pathname === `/hooks/${HOOK_PATH}`) return sendJson(res, 500, { error: `hook down for ${authOf(req.headers)}` });
    return void res.writeHead(404).end();
  });
  dir = mkdtempSync(join(tmpdir(), 'rollout-secrets-'));
  summary = join(dir, 'step-summary.md');
  writeFileSync(
    join(dir, 'rollout.yaml'),
    `version: 1
name: leaky
stages: [10, 50, 100]
analysis: { interval: 1s, bake: 0s, failureLimit: 2, maxHold: 2s, onMaxHold: fail }
sources:
  prom: { type: prometheus, url: "${app.url}/prom", headers: { Authorization: "Bearer \${SECRET}" }, timeout: 2s }
  echo: { type: json, url: "${app.url}/app/\${SECRET}/m.json", headers: { Authorization: "Bearer \${SECRET}" }, timeout: 2s }
  plain: { type: json, url: "${app.url}/plain/m.json", timeout: 2s }
  basic: { type: json, url: "http://admin:\${PASS}@127.0.0.1:${app.port}/basic/m.json", timeout: 2s }
metrics:
  - { name: query_echo, source: prom, query: 'sum(rate(x{token="\${SECRET}"}[5m]))', warning: "> 1" }
  - { name: header_echo, source: echo, path: result.value, warning: "> 1" }
  - { name: "label \${SECRET}", source: plain, path: "result.\${SECRET}", warning: "> 1" }
  - { name: basic_echo, source: basic, path: result.value, warning: "> 1" }
target:
  type: http
  set: { method: PUT, url: "\${FLAG_URL}", headers: { Authorization: "Bearer \${SECRET}" }, body: { percentage: "{{percent}}" } }
  get: { url: "\${FLAG_URL}", headers: { Authorization: "Bearer \${SECRET}" }, path: percentage }
  retries: 0
notify:
  - { type: webhook, url: "\${HOOK_URL}", headers: { Authorization: "Bearer \${SECRET}" }, timeout: 2s }
`,
  );
  const env = {
    SECRET,
    PASS,
    FLAG_URL: `HTTP://127.0.0.1:${app.port}/flags/${FLAG_PATH}?env=prod\n`,
    HOOK_URL: `HTTP://127.0.0.1:${app.port}/hooks/${HOOK_PATH}?sig=1\n`,
    GITHUB_ACTIONS: 'true',
    GITHUB_STEP_SUMMARY: summary,
  };
  const rollout = async (...args: string[]) => {
    const result = await runCli([...args, '--state-dir', join(dir, 'state')], { cwd: dir, env });
    outputs.push(result);
    return result;
  };
  expect((await rollout('check')).code).toBe(3);
  expect((await rollout('check', '--json')).code).toBe(3);
  expect((await rollout('advance', '--yes')).code).toBe(6); // the flag API rejects the token
  expect((await rollout('advance', '--yes', '--json')).code).toBe(0); // 0 → 10 %, unjudged
  expect((await rollout('run', '--timeout', '6s')).code).toBe(3); // no data: held until maxHold
  expect((await rollout('run', '--json', '--timeout', '6s', '--report-html', join(dir, 'state', 'report.html'))).code).toBe(3);
  expect((await rollout('rollback', '--yes', '--json')).code).toBe(0);
  expect((await rollout('history', '--json')).code).toBe(0);
  for (const format of ['markdown', 'json', 'junit', 'html']) expect((await rollout('report', '--format', format)).code).toBe(0);
  // A reason quoting the secret, left in the state file by the pause.
  expect((await rollout('hold', '--reason', `the token ${SECRET} leaked`)).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await elsewhere?.close();
});

/** Every file under `root`, recursively. */
function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The forms a value may take on the way out, computed here independently of src/plan/secrets.ts. */
function formsOf(value: string): string[] {
  const encoded = encodeURIComponent(value);
  return [
    value,
    value.trim(),
    encoded,
    encoded.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
    encodeURI(value),
    new URL(`http://h/${value}`).pathname.slice(1),
    new URLSearchParams({ v: value }).toString().slice(2),
    JSON.stringify(value).slice(1, -1),
    value.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`),
    value.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] ?? c),
    // GitHub workflow commands: a message escapes %, a title also : and ,.
    value.replace(/%/g, '%25'),
    value.replace(/%/g, '%25').replace(/:/g, '%3A').replace(/,/g, '%2C'),
    Buffer.from(value).toString('base64').replace(/=+$/, ''),
  ];
}

const leaks: Array<[string, string[]]> = [
  ['the secret', formsOf(SECRET)],
  ['the basic-auth password', formsOf(PASS)],
  ['base64 of admin:password', [...formsOf(BASIC.replace(/=+$/, '')), encodeURIComponent(`Basic ${BASIC}`)]],
  ['the path of the flag URL', formsOf(FLAG_PATH)],
  ['the path of the webhook URL', formsOf(HOOK_PATH)],
];

it('the servers really echoed every secret, so redaction had something to remove', () => {
  const stdout = outputs.map((r) => r.stdout).join('\n');
  const stderr = outputs.map((r) => r.stderr).join('\n');
  // The places the secrets were echoed into reach the output (redacted).
  expect(stderr).toMatch(/answered 400: \{"error":"bad token","got":"Bearer \*\*\*"\}/);
  expect(stdout).toContain('parse error in sum(rate(x{token=\\"***\\"}[5m]))');
  expect(stdout).toMatch(/path result\.\*\*\* not found/);
  expect(stdout).toContain('"label ***"');
  expect(stderr).toMatch(/::warning title=rollout leaky%3A label \*\*\* nodata::/);
  expect(stderr).toMatch(/warning: notification to webhook \*\*\* failed: HTTP 500/);
  expect(stdout).toMatch(/"to":"\*\*\*"/);
  expect(readFileSync(summary, 'utf8')).toContain('label ***');
  // The basic-auth source's redirect to another origin was not followed: its credentials went nowhere.
  expect(stdout).toMatch(/answered 302, a redirect to another origin \(a login page\?\), not followed/);
  expect(elsewhere.requests).toEqual([]);
  expect(app.requests.some((r) => r.url === '/basic/m.json' && r.headers.authorization === `Basic ${BASIC}`)).toBe(true);
  expect(percentage).toBe(0);
});

it.each(leaks)('no form of %s appears in stdout, stderr, the state dir or the step summary', (_what, forms) => {
  const places: Array<[string, string]> = [
    ...outputs.flatMap((r, i): Array<[string, string]> => [[`stdout of command ${i + 1}`, r.stdout], [`stderr of command ${i + 1}`, r.stderr]]),
    ...filesUnder(join(dir, 'state')).map((file): [string, string] => [file, readFileSync(file, 'utf8')]),
    [summary, readFileSync(summary, 'utf8')],
  ];
  expect(places.length).toBeGreaterThan(outputs.length * 2 + 1);
  for (const [place, text] of places) {
    for (const form of new Set(forms)) expect(text.includes(form), `${JSON.stringify(form)} in ${place}`).toBe(false);
  }
});
