/**
 * The values that came from `${VAR}` interpolation. Everything the tool prints, records or sends
 * passes through `redact`, so a secret never leaves the process in clear.
 */
export class Secrets {
  private readonly values = new Set<string>();

  /** Remembers a value as secret (with its URL-encoded form, as it may appear in URLs). */
  add(value: string): void {
    // Very short values (e.g. "1") would shred unrelated text; they carry no secrecy anyway.
    if (value.length < 3) return;
    this.values.add(value);
    const encoded = encodeURIComponent(value);
    if (encoded !== value) this.values.add(encoded);
  }

  get size(): number {
    return this.values.size;
  }

  /** Replaces every secret in `text` with `***`. Longest first, so overlapping values vanish whole. */
  redact(text: string): string {
    if (this.values.size === 0) return text;
    let out = text;
    for (const value of [...this.values].sort((a, b) => b.length - a.length)) {
      out = out.split(value).join('***');
    }
    return out;
  }

  /** Redacts every string inside a JSON-like value (for history, reports and payloads); numbers stay numbers. */
  redactDeep<T>(value: T): T {
    if (this.values.size === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.redact(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [this.redact(k), walk(x)]));
      return v;
    };
    return walk(value) as T;
  }
}

/**
 * The secrets of every plan loaded by this process. Output, errors, history and notifications all
 * redact through it, so no code path can forget a plan's secrets.
 */
export const processSecrets = new Secrets();
