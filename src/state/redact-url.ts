/** Connection strings for messages; apart from postgres-store.ts so showing one never loads the driver. */

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
