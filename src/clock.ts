/** Time, injected so the run loop and bake timers can be driven by a fake clock in tests. */
export interface Clock {
  /** Wall-clock time in ms since the epoch (recorded in state and history). */
  now(): number;
  /** Monotonic ms for scheduling polls; never jumps with wall-clock changes. */
  monotonic(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** setTimeout's longest delay; a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        if (ms > MAX_TIMER_MS) systemClock.sleep(ms - MAX_TIMER_MS, signal).then(resolve, reject);
        else resolve();
      }, Math.min(ms, MAX_TIMER_MS));
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
