/**
 * The HTML report of finished demo rollouts, opened in a real headless Chromium (Debian's
 * `chromium`, installed by scripts/ensure-services.sh): one healthy rollout (`report --format
 * html`) and one rolled back (`run --report-html`), both run by the built CLI against the demo's
 * simulated service. Chromium's DOM must hold the charts, and its screenshot must show them drawn.
 * The screenshots are kept in test-artifacts/ (gitignored) for a person to look at.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoPlan } from '../../src/demo/demo-plan.js';
import { startSimulatedService, type SimulatedService } from '../../src/demo/simulated-service.js';
import { runCli } from '../helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
const WIDTH = 1200;
const HEIGHT = 1400;

/** Runs headless Chromium on `page` with `args`; resolves with what it printed. No network, no profile of ours. */
async function chromium(page: string, args: string[]): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'rollout-chromium-'));
  try {
    const child = spawn(
      CHROMIUM,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, `--window-size=${WIDTH},${HEIGHT}`, ...args, pathToFileURL(page).href],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: 90_000 },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`chromium exited ${code}: ${stderr.slice(-2000)}`);
    return stdout;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** Pixels of `png` within `tolerance` of the colour `[r, g, b]`. */
function countColour(png: PNG, [r, g, b]: [number, number, number], tolerance = 40): number {
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    if (Math.abs((png.data[i] as number) - r) + Math.abs((png.data[i + 1] as number) - g) + Math.abs((png.data[i + 2] as number) - b) <= tolerance) n++;
  }
  return n;
}

const SERIES_BLUE: [number, number, number] = [37, 99, 235];
const CRITICAL_RED: [number, number, number] = [220, 38, 38];
const PERCENT_FILL: [number, number, number] = [219, 234, 254];

let service: SimulatedService;
let dir: string;
const pages: Record<'healthy' | 'bad', string> = { healthy: '', bad: '' };

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/ensure-services.sh (apt-get install chromium)`).toBe(true);
  await mkdir(ARTIFACTS, { recursive: true });
  dir = await mkdtemp(join(tmpdir(), 'rollout-html-'));
  service = await startSimulatedService();
  const env = { ROLLOUT_ACTOR: 'html-test' };

  const healthy = await writeDemoPlan(dir, 'healthy', service);
  expect((await runCli(['run', healthy], { env, timeoutMs: 60_000 })).code).toBe(0);
  const report = await runCli(['report', healthy, '--format', 'html'], { env });
  expect(report.code).toBe(0);
  pages.healthy = join(ARTIFACTS, 'report-healthy.html');
  await writeFile(pages.healthy, report.stdout);

  service.reset('bad');
  const bad = await writeDemoPlan(dir, 'bad', service);
  pages.bad = join(ARTIFACTS, 'report-bad.html');
  const run = await runCli(['run', bad, '--report-html', pages.bad], { env, timeoutMs: 60_000 });
  expect(run.code).toBe(4);
}, 150_000);

afterAll(async () => {
  await service?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the HTML report in Chromium', () => {
  it.each(['healthy', 'bad'] as const)('%s: the DOM Chromium built holds every chart, metric and decision', async (scenario) => {
    const dom = await chromium(pages[scenario], ['--dump-dom']);
    expect(dom).toContain(`<h1>demo-${scenario} <span class="badge">${scenario === 'bad' ? 'rolled back to 0%' : 'completed at 100%'}</span></h1>`);
    expect(dom.match(/<svg class="chart"/g)).toHaveLength(4);
    for (const metric of ['error_rate', 'avg_response_time', 'p95_latency']) {
      expect(dom).toMatch(new RegExp(`<section class="metric" data-metric="${metric}"><h2>${metric} `));
    }
    expect(dom.match(/<path class="series" d="M[\d.]+ [\d.]+L/g)?.length).toBe(3);
    expect(dom).toContain('<g class="marker marker-start"');
    if (scenario === 'bad') {
      expect(dom).toMatch(/<g class="marker marker-rollback" data-count="1"><title>rollback 25% → 0% \(critical\) at [\d:]+ UTC by html-test: error_rate [\d.]+% breaches critical &gt; 5%/);
      expect(dom).toMatch(/<path class="dot dot-critical" d="M/);
    } else {
      expect(dom).not.toContain('<g class="marker marker-rollback"');
      expect(dom).toContain('<g class="marker marker-complete"');
    }
  }, 120_000);

  it.each(['healthy', 'bad'] as const)('%s: the screenshot shows the charts drawn', async (scenario) => {
    const file = join(ARTIFACTS, `report-${scenario}.png`);
    await rm(file, { force: true });
    await chromium(pages[scenario], [`--screenshot=${file}`, '--hide-scrollbars']);
    const png = PNG.sync.read(await readFile(file));
    expect([png.width, png.height]).toEqual([WIDTH, HEIGHT]);
    const white = countColour(png, [255, 255, 255], 6);
    expect(white / (png.width * png.height)).toBeLessThan(0.9);
    // The lines of three metric charts and the percent chart's area.
    expect(countColour(png, SERIES_BLUE)).toBeGreaterThan(1500);
    expect(countColour(png, PERCENT_FILL, 12)).toBeGreaterThan(3000);
    // The bad canary's critical readings and limit line. (The healthy one may show its critical line
    // too: a warning blip of the simulated traffic can lift the axis up to it, so no bound there.)
    if (scenario === 'bad') expect(countColour(png, CRITICAL_RED)).toBeGreaterThan(400);
  }, 120_000);
});
