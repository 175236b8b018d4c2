/** `${VAR}` interpolation from the environment; every value it inserts becomes a secret. */
import { isTooShortToRedact, type Secrets } from './secrets.js';

/** A `${VAR}` at a place in the plan's data. */
export interface VariableAt {
  path: (string | number)[];
  name: string;
}

/** What interpolation found to report: variables that are not set, values too short to redact. */
export interface InterpolationReport {
  unset: VariableAt[];
  tooShort: (VariableAt & { length: number })[];
}

// `$${X}` stays literal as `${X}`, for values that must keep the syntax.
const REFERENCE = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Returns a copy of `value` with `${VAR}` replaced in every string. Unset variables are reported
 * (with the path of the string holding them) rather than replaced by an empty string. Every value
 * inserted is registered in `secrets`; one too short to redact on its own is reported, and the
 * whole string it went into is registered instead. Credentials in URLs (`user:pass@`) are
 * registered too, with the forms they take in a Basic header.
 */
export function interpolate(value: unknown, env: NodeJS.ProcessEnv, secrets: Secrets, report: InterpolationReport): unknown {
  return walk(value, []);

  function walk(node: unknown, path: (string | number)[]): unknown {
    if (typeof node === 'string') return interpolateString(node, path);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) {
        // defineProperty, so a `__proto__` key in a plan stays a plain key and cannot touch prototypes.
        Object.defineProperty(out, k, { value: walk(v, [...path, k]), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return node;
  }

  function interpolateString(text: string, path: (string | number)[]): string {
    let holdsShortSecret = false;
    const out = text.replace(REFERENCE, (whole, escaped: string | undefined, name: string) => {
      if (escaped) return whole.slice(1);
      const found = env[name];
      if (found === undefined) {
        report.unset.push({ path, name });
        return whole;
      }
      if (isTooShortToRedact(found)) {
        report.tooShort.push({ path, name, length: found.trim().length });
        holdsShortSecret = true;
      }
      secrets.add(found);
      return found;
    });
    if (holdsShortSecret) secrets.add(out);
    registerUrlCredentials(out, secrets);
    return out;
  }
}

/** Registers the `user:pass@` of a URL, literal or interpolated: a credential either way. */
function registerUrlCredentials(text: string, secrets: Secrets): void {
  if (!text.includes('@') || !text.includes('://')) return;
  try {
    secrets.addUrlCredentials(new URL(text.trim()));
  } catch {
    // Not a URL: nothing is sent as Basic credentials.
  }
}
