/**
 * Connection strings and driver errors for messages, shared by the PostgreSQL state store and the
 * postgres metric source; apart from them so showing a URL never loads the driver.
 */

/** Shows a connection string with its password (and any password-like parameter) replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString();
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@').replace(/(pass\w*=)[^&\s]*/gi, '$1***');
  }
}

/** The secret strings of a connection string, as they may appear in a driver's message. */
export function passwordsOf(url: string): string[] {
  try {
    const parsed = new URL(url);
    const raw = [parsed.password, ...[...parsed.searchParams].filter(([k]) => /pass/i.test(k)).map(([, v]) => v)];
    return raw.filter(Boolean).flatMap((p) => [p, decodeURIComponent(p)]);
  } catch {
    return [];
  }
}

/** A driver error in words: Node's AggregateError (IPv4 and IPv6 both refused) has no message. */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describeError(err.errors[0]);
  const e = err as NodeJS.ErrnoException;
  return e.message || e.code || String(err);
}
