/**
 * Pieces of the plan schema shared by schema.ts and the source and target types' own schema
 * pieces (src/sources/kinds/, src/targets/kinds/).
 */
import { z } from '../zod-configured.js';
import { DURATION_PATTERN, isTimeoutLength, isWithinAYear } from './duration.js';

/** A duration as written: 500ms, 30s, 5m, 48h, 7d, 1h30m; at most a year. */
export const duration = z
  .string()
  .regex(new RegExp(DURATION_PATTERN), 'expected a duration such as 30s, 5m, 48h or 7d')
  .refine(isWithinAYear, 'expected at most 365d')
  .meta({ description: 'A duration: 500ms, 30s, 5m, 48h, 7d, or combined like 1h30m.' });

/** A request's or program's deadline: above zero, at most an hour (a timer must never overflow). */
export const timeout = duration.refine(isTimeoutLength, 'expected a timeout above 0 and at most 1h');

/** HTTP headers; values may come from `${VAR}`. */
export const headers = z.record(z.string(), z.string()).meta({ description: 'HTTP headers; values may use ${VAR}.' });

/** A program and its arguments, run without a shell. */
export const argv = z.array(z.string()).min(1).meta({ description: 'A command and its arguments, run without a shell.' });

/** Retries of an HTTP target. */
export const retries = z.int().min(0).max(10).optional().meta({ description: 'Retries on connection errors, timeouts and 5xx (default 3).' });
