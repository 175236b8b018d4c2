/** A target in memory for in-process tests of the commit path: records every call, fails or stalls on cue. */
import { TargetError } from '../../src/errors.js';
import type { Target } from '../../src/targets/target.js';

export class FakeTarget implements Target {
  readonly description = 'fake target';
  percent: number;
  /** Every call, in order: "apply 10", "read", "emergency", "settle all". */
  readonly calls: string[] = [];
  /** Makes the next apply of this percentage throw. */
  failApply = new Set<number>();
  failEmergency = false;
  failRead = false;
  /** Cannot be read back (a target without `get`). */
  unreadable = false;
  /** Runs inside an apply, after it was received and before it lands: a race to stage. */
  duringApply?: (percent: number) => Promise<void> | void;
  /** Never answers an apply (a hung flag API), until its signal aborts. */
  hangApply = false;

  constructor(percent = 0) {
    this.percent = percent;
  }

  async read(): Promise<number | undefined> {
    this.calls.push('read');
    if (this.failRead) throw new TargetError('read failed');
    return this.unreadable ? undefined : this.percent;
  }

  async apply(percent: number, signal?: AbortSignal): Promise<void> {
    this.calls.push(`apply ${percent}`);
    if (this.hangApply) {
      await new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
    }
    if (this.failApply.has(percent)) throw new TargetError(`apply ${percent} failed`);
    await this.duringApply?.(percent);
    this.percent = percent;
  }

  async emergency(): Promise<void> {
    this.calls.push('emergency');
    if (this.failEmergency) throw new TargetError('emergency action failed');
  }

  async settle(which: 'all' | 'orphans'): Promise<void> {
    this.calls.push(`settle ${which}`);
  }
}
