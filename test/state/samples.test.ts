import { describe, expect, it } from 'vitest';
import type { Reading } from '../../src/analysis/judge.js';
import { compactSamples, createSampleRecorder, sampleOf, type MetricSample } from '../../src/state/samples.js';
import { sampleAt } from './store-contract.js';

const reading = (name: string, fields: Partial<Reading>): Reading => ({ name, status: 'ok', display: '', reason: '', dryRun: false, ...fields });

describe('sampleOf', () => {
  it('keeps the numbers of a poll: no data as null, baselines where there are some', () => {
    const sample = sampleOf(Date.UTC(2024, 4, 1, 12), 25, 'hold', [
      reading('error_rate', { value: 0.012, status: 'warning' }),
      reading('p95', { status: 'nodata', value: -1 }),
      reading('latency_vs_stable', { value: 0.3, baseline: 0.25 }),
    ]);
    expect(sample).toEqual({
      time: '2024-05-01T12:00:00.000Z',
      percent: 25,
      verdict: 'hold',
      metrics: { error_rate: 0.012, p95: null, latency_vs_stable: 0.3 },
      baselines: { latency_vs_stable: 0.25 },
    });
    expect(sampleOf(0, 10, 'healthy', [reading('a', { value: 1 })])).not.toHaveProperty('baselines');
  });
});

describe('compactSamples', () => {
  const polls = (n: number, critical: number[] = []) => Array.from({ length: n }, (_, i) => sampleAt(i, critical.includes(i) ? { verdict: 'critical' } : {}));
  const total = (samples: MetricSample[]) => samples.reduce((sum, s) => sum + (s.polls ?? 1), 0);

  it('leaves a log within its cap as it is', () => {
    const log = polls(6);
    expect(compactSamples(log, 4, 2)).toBe(log);
  });

  it('keeps the newest polls exact and halves the older ones until they fit, the worse of each pair surviving', () => {
    const compacted = compactSamples(polls(13, [1, 4]), 4, 2);
    expect(compacted.slice(-4)).toEqual(polls(13).slice(-4));
    // 9 older polls → 5 → 3 → 2; both criticals are in the first of the two that are left.
    const older = compacted.slice(0, -4);
    expect(older).toHaveLength(2);
    expect(older[0]).toMatchObject({ verdict: 'critical', polls: 8 });
    expect(older[1]).toEqual(sampleAt(8)); // the odd one out passes through each halving as it was
    expect(total(compacted)).toBe(13);
  });

  it('prefers a hold to a healthy poll, and a critical to a hold', () => {
    const log = [sampleAt(0), sampleAt(1, { verdict: 'hold' }), sampleAt(2, { verdict: 'critical' }), sampleAt(3, { verdict: 'hold' }), sampleAt(4)];
    expect(compactSamples(log, 1, 2).map((s) => [s.metrics.error_rate, s.polls])).toEqual([[1, 2], [2, 2], [4, undefined]]);
  });
});

describe('createSampleRecorder', () => {
  it('writes samples in order, batching those queued during a write', async () => {
    const writes: number[][] = [];
    let release!: () => void;
    let gate: Promise<void> | undefined = new Promise<void>((resolve) => (release = resolve));
    const recorder = createSampleRecorder(
      {
        async appendSamples(samples) {
          writes.push(samples.map((s) => s.metrics.error_rate ?? -1));
          const wait = gate;
          gate = undefined;
          await wait;
        },
      },
      () => expect.unreachable('no warning'),
    );
    recorder.record(sampleAt(1));
    recorder.record(sampleAt(2));
    recorder.record(sampleAt(3));
    release();
    await recorder.flush();
    expect(writes).toEqual([[1], [2, 3]]);
  });

  it('turns failed writes into one warning per streak and never throws', async () => {
    const warnings: string[] = [];
    let failing = true;
    const recorder = createSampleRecorder(
      {
        async appendSamples() {
          if (failing) throw new Error('disk full');
        },
      },
      (message) => warnings.push(message),
    );
    recorder.record(sampleAt(1));
    await recorder.flush();
    recorder.record(sampleAt(2));
    await recorder.flush();
    expect(warnings).toEqual(["warning: readings not kept for the report's charts: disk full"]);
    failing = false;
    recorder.record(sampleAt(3));
    await recorder.flush();
    failing = true;
    recorder.record(sampleAt(4));
    await recorder.flush();
    expect(warnings).toHaveLength(2);
  });
});
