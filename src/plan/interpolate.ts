/** `${VAR}` interpolation from the environment; every value it inserts becomes a secret. */
import type { Secrets } from './secrets.js';

/** A `${VAR}` that names no set variable. */
export interface UnsetVariable {
  path: (string | number)[];
  name: string;
}

// `$${X}` stays literal as `${X}`, for values that must keep the syntax.
const REFERENCE = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Returns a copy of `value` with `${VAR}` replaced in every string. Unset variables are reported
 * (with the path of the string holding them) rather than replaced by an empty string.
 */
export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  secrets: Secrets,
  unset: UnsetVariable[],
  path: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (whole, escaped: string | undefined, name: string) => {
      if (escaped) return whole.slice(1);
      const found = env[name];
      if (found === undefined) {
        unset.push({ path, name });
        return whole;
      }
      secrets.add(found);
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, secrets, unset, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // defineProperty, so a `__proto__` key in a plan stays a plain key and cannot touch prototypes.
      Object.defineProperty(out, k, { value: interpolate(v, env, secrets, unset, [...path, k]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}
