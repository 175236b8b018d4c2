/** Runs every emergency step even when some fail, then reports all failures at once. */
import { TargetError } from '../errors.js';
import { processSecrets } from '../plan/secrets.js';

/** One named step of an emergency: `name` appears in the combined error. */
export interface Step {
  name: string;
  run: () => Promise<void>;
}

/**
 * Attempts each step in order. An emergency must not stop at its first broken call (the next one
 * may be the one that actually turns the feature off), so failures are collected and thrown
 * together as one TargetError naming every failed step.
 */
export async function attemptAll(steps: Step[]): Promise<void> {
  const failures: string[] = [];
  for (const step of steps) {
    try {
      await step.run();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      failures.push(`${step.name}: ${processSecrets.redact(message)}`);
    }
  }
  if (failures.length === 0) return;
  throw new TargetError(
    `${failures.length} of ${steps.length} emergency action${steps.length === 1 ? '' : 's'} failed:\n` +
      failures.map((f) => `  - ${f}`).join('\n'),
    'finish the failed actions by hand',
  );
}
