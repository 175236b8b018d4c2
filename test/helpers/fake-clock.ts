/**
 * A Clock for tests whose time moves only when told to: `sleep` jumps ahead at once, so a week of
 * polling runs in milliseconds. Wall and monotonic time start apart on purpose, so code that mixes
 * them up fails the tests.
 */
import type { Clock } from '../../src/clock.js';

/** A fake Clock; `advance` moves both clocks, as time spent inside an effect would. */
export class FakeClock implements Clock {
  private wall: number;
  private mono: number;
  /** Every sleep asked for, in ms. */
  readonly sleeps: number[] = [];

  constructor(wallStart = Date.parse('2025-03-01T09:00:00Z'), monoStart = 1_000) {
    this.wall = wallStart;
    this.mono = monoStart;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
  }

  /** Time passes (a poll that takes a while, a slow write). */
  advance(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    this.sleeps.push(ms);
    this.advance(ms);
    // Yield like a real timer would, so other promise chains get to run.
    await Promise.resolve();
    if (signal?.aborted) throw signal.reason;
  }
}
