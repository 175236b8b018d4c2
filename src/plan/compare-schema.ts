/**
 * The `compare` block's schema piece (compare.ts says what the block is). A module of its own, so
 * that zod loads only with the plan schema: when a plan is rejected, or its schema is printed.
 */
import { z } from '../zod-configured.js';
import { PERCENT, SIGNED_PERCENT } from './compare-patterns.js';

const counts = z.strictObject({
  events: z.string().min(1).meta({ description: 'The events of this group (e.g. 5xx answers) since the previous poll: a query, path or expression as the source reads it.' }),
  total: z.string().min(1).meta({ description: 'All requests of this group since the previous poll.' }),
});

/** The `compare` block's schema. */
export const compareSchema = z
  .strictObject({
    canary: counts,
    baseline: counts,
    effect: z
      .string()
      .regex(SIGNED_PERCENT, 'expected a signed percentage: "+50%" (a rise of 50% matters) or "-20%" (a drop of 20% matters)')
      .meta({ description: 'The smallest relative change that matters. The sign says which way is worse: "+50%" for error rates, "-20%" for success rates.' }),
    falseAlarm: z
      .string()
      .regex(PERCENT, 'expected a percentage such as 1%')
      .optional()
      .meta({ description: 'The chance per stage of calling a canary worse when it is not (default 1%).' }),
  })
  .meta({ description: 'Compares canary with baseline as counts, with a sequential test that stays valid however often it is polled. Replaces the query, baseline and limits of the metric.' });
