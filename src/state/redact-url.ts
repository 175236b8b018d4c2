/**
 * Connection strings and driver errors for messages, shared by the PostgreSQL state store and the
 * postgres metric source; apart from them so showing a URL never loads the driver.
 */

// scheme://user:<password>@ with the password running to the LAST "@": a password with an unencoded
// "/", "#", "?" or "@" is cut elsewhere by URL parsers (postgres://u:12/ss@db reads as host "u",
// port 12), so a parser's idea of the password would leave part of it showing.
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):(.*)@/is;
const PASSWORD_PARAMETER = /([?&\s][^=&\s]*pass[^=&\s]*=)([^&\s#]*)/gi;

/** Shows a connection string with its password (and any password-like parameter) replaced by ***. */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, '$1:***@').replace(PASSWORD_PARAMETER, '$1***');
}

/** The secret strings of a connection string as written: its password and password-like parameters. */
export function passwordsOf(url: string): string[] {
  const userinfo = USERINFO.exec(url)?.[2];
  const parameters = [...url.matchAll(PASSWORD_PARAMETER)].map((m) => m[2] ?? '');
  return [userinfo ?? '', ...parameters].filter((p) => p !== '');
}

/** A driver error in words: Node's AggregateError (IPv4 and IPv6 both refused) has no message. */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describeError(err.errors[0]);
  const e = err as NodeJS.ErrnoException;
  return e.message || e.code || String(err);
}
