/**
 * The texts of a `compare:` block's percentages, shared by its schema piece (compare-schema.ts,
 * loaded with zod when a plan is rejected) and the rules checked on every load (compare.ts).
 */

/** The smallest change that matters: "+50%", "-20%". */
export const SIGNED_PERCENT = /^\s*([+-]\d+(?:\.\d+)?)\s*%\s*$/;
/** A chance: "1%". */
export const PERCENT = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;
