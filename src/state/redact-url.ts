/** Connection strings for messages; apart from postgres-store.ts so showing one never loads the driver. */

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
