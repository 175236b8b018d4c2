/**
 * Drift (SPEC §3): the target is the truth for the percentage. Every command that changes state
 * first reads the target back and compares it with the percentage state last applied.
 */
import { TargetError } from '../errors.js';
import { processSecrets } from '../plan/secrets.js';
import { formatPercent, samePercent } from './percent.js';
import type { Target } from './target.js';

/** The comparison of target and state; `message` explains any drift, or why none was checked. */
export interface DriftReport {
  /** What the target reports; undefined when it cannot be read back. */
  targetPercent?: number;
  /** The percentage state last applied; undefined before the rollout started. */
  statePercent?: number;
  drift: boolean;
  message?: string;
}

/**
 * Compares what the target says with what state says, purely. Before the rollout started, a
 * target already above 0 % counts as drift: someone moved the flag outside the rollout, and
 * starting the plan would silently change their exposure.
 */
export function compareDrift(targetPercent: number | undefined, statePercent: number | undefined): DriftReport {
  const report: DriftReport = { drift: false };
  if (targetPercent !== undefined) report.targetPercent = targetPercent;
  if (statePercent !== undefined) report.statePercent = statePercent;
  if (targetPercent === undefined) return { ...report, message: 'the target cannot be read back; drift not checked' };
  if (statePercent === undefined) {
    if (samePercent(targetPercent, 0)) return report;
    return { ...report, drift: true, message: `the rollout has not started, target says ${formatPercent(targetPercent)}` };
  }
  if (samePercent(targetPercent, statePercent)) return report;
  return {
    ...report,
    drift: true,
    message: `state says ${formatPercent(statePercent)}, target says ${formatPercent(targetPercent)}`,
  };
}

/** Reads `target` and compares it with `lastApplied` from state; a failed read is a TargetError. */
export async function detectDrift(target: Target, lastApplied: number | undefined, signal?: AbortSignal): Promise<DriftReport> {
  let targetPercent: number | undefined;
  try {
    targetPercent = await target.read(signal);
  } catch (err) {
    if (err instanceof TargetError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new TargetError(processSecrets.redact(`reading ${target.description} failed: ${message}`));
  }
  return compareDrift(targetPercent, lastApplied);
}
