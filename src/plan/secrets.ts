/**
 * The values that came from `${VAR}` interpolation, and the credentials found in the plan's URLs.
 * Each is registered with every form it may take on the way out (trimmed, URL-normalised,
 * percent-encoded, JSON-escaped, base64), and everything the tool prints, records or sends passes
 * through `redact`, so a secret never leaves the process in any of them.
 */

/**
 * Values shorter than this are not redacted on their own: replacing every "80" or "eu" in the
 * output would shred unrelated text (percentages, durations, words). The plan loader warns about
 * such a value and registers the whole string it was inserted into instead (see interpolate.ts).
 */
export const MIN_SECRET_LENGTH = 3;

/** True for a value of 1 or 2 characters (blanks aside): too short to redact on its own. */
export function isTooShortToRedact(value: string): boolean {
  const length = value.trim().length;
  return length > 0 && length < MIN_SECRET_LENGTH;
}

/** Every form a registered secret is looked for in; see `add`. */
export class Secrets {
  /** The values added, so that a value used in many places is worked out once. */
  private readonly values = new Set<string>();
  private readonly forms = new Set<string>();
  /** The forms as one regular expression, longest first; rebuilt after each `add`. */
  private pattern: RegExp | undefined;

  /**
   * Remembers a value as secret, with the forms it takes when it is written into a URL, a JSON
   * string, a form body or a base64 header. Values too short to redact are ignored.
   */
  add(value: string): void {
    if (value.trim().length < MIN_SECRET_LENGTH || this.values.has(value)) return;
    this.values.add(value);
    for (const form of derivedForms(value)) {
      if (this.forms.has(form)) continue;
      this.forms.add(form);
      this.pattern = undefined;
    }
  }

  /**
   * Remembers the `user:password@` of a URL as it is sent: the password, and `user:password` in
   * base64 alone and as the `Basic …` header value (a server may echo either, e.g. in a Location).
   */
  addUrlCredentials(url: URL): void {
    const user = decodeOrKeep(url.username);
    const password = decodeOrKeep(url.password);
    if (user === '' && password === '') return;
    // Without a password the user name is the credential (a token as user, GitHub style).
    this.add(password === '' ? user : password);
    const basic = Buffer.from(`${user}:${password}`).toString('base64');
    this.add(basic.replace(/=+$/, ''));
    this.add(`Basic ${basic}`);
  }

  /** Replaces every form of every secret in `text` with `***`; overlapping forms vanish whole. */
  redact(text: string): string {
    if (this.forms.size === 0) return text;
    this.pattern ??= compiled([...this.forms].sort((a, b) => b.length - a.length).map(patternOf).join('|'));
    return text.replace(this.pattern, '***');
  }

  /** Redacts every string inside a JSON-like value (for history, reports and payloads); numbers stay numbers. */
  redactDeep<T>(value: T): T {
    if (this.forms.size === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.redact(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [this.redact(k), walk(x)]));
      return v;
    };
    return walk(value) as T;
  }

}

// Working out the forms and compiling them costs about a millisecond a plan; tests load thousands
// of plans with the same few secrets, so both are kept per value and per pattern (a few entries).
const formsByValue = new Map<string, string[]>();
const compiledPatterns = new Map<string, RegExp>();
const CACHE_ENTRIES = 256;

/** Every form of `value` long enough to redact: its base forms, each in every encoding. */
function derivedForms(value: string): string[] {
  let forms = formsByValue.get(value);
  if (!forms) {
    forms = [...new Set([...baseForms(value)].flatMap(encodedForms))].filter((f) => f.length >= MIN_SECRET_LENGTH);
    if (formsByValue.size >= CACHE_ENTRIES) formsByValue.clear();
    formsByValue.set(value, forms);
  }
  return forms;
}

function compiled(source: string): RegExp {
  let pattern = compiledPatterns.get(source);
  if (!pattern) {
    pattern = new RegExp(source, 'g');
    if (compiledPatterns.size >= CACHE_ENTRIES) compiledPatterns.clear();
    compiledPatterns.set(source, pattern);
  }
  return pattern;
}

/**
 * The value as it may be shown before any encoding: as given, without the blanks around it (a
 * trailing newline is common in files read into variables), lower-cased (hosts and schemes are
 * normalised so), and, for a whole URL, each way a URL is normalised and described in messages.
 */
function baseForms(value: string): Set<string> {
  const trimmed = value.trim();
  // Decoded too: a password percent-encoded in a URL is sent, and may come back, decoded.
  const forms = new Set([value, trimmed, trimmed.toLowerCase(), decodeOrKeep(trimmed)]);
  // Written into a URL's path or query, the value is percent-encoded by the URL parser's own rules.
  const inPath = parseUrl(`http://h/${trimmed}`)?.pathname.slice(1);
  const inQuery = parseUrl(`http://h/?${trimmed}`)?.search.slice(1);
  for (const form of [inPath, inQuery]) if (form) forms.add(form);
  for (const form of urlForms(trimmed)) forms.add(form);
  // base64 without its padding: the padding differs with what follows, or is percent-encoded.
  forms.add(Buffer.from(trimmed).toString('base64').replace(/=+$/, ''));
  return forms;
}

/** A whole URL as it is normalised (scheme and host lower-cased, default port dropped) and described. */
function urlForms(text: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(text)) return [];
  const url = parseUrl(text);
  if (!url) return [];
  const withoutHash = url.href.replace(/#.*$/, '');
  const described = `${url.protocol}//${url.host}${url.pathname}`;
  return [url.href, withoutHash, described, `${described}${url.search}`];
}

function decodeOrKeep(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** The encodings a form may go through on its way out. */
function encodedForms(form: string): string[] {
  const json = JSON.stringify(form).slice(1, -1);
  return [
    form,
    encodeURIComponent(form),
    encodeURI(form),
    // application/x-www-form-urlencoded: spaces as "+".
    new URLSearchParams({ v: form }).toString().slice(2),
    json,
    // A JSON string inside JSON, e.g. an error body quoted in a --json document.
    JSON.stringify(json).slice(1, -1),
    // GitHub workflow command data escapes % and line breaks.
    form.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A'),
  ];
}

/** A form as a regular expression: special characters escaped, percent-escapes in either case. */
function patternOf(form: string): string {
  return form
    .replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
    .replace(/%([0-9A-Fa-f])([0-9A-Fa-f])/g, (_, a: string, b: string) => `%${caseless(a)}${caseless(b)}`);
}

function caseless(hexDigit: string): string {
  return /[0-9]/.test(hexDigit) ? hexDigit : `[${hexDigit.toLowerCase()}${hexDigit.toUpperCase()}]`;
}

/**
 * The secrets of every plan loaded by this process. Output, errors, history and notifications all
 * redact through it, so no code path can forget a plan's secrets.
 */
export const processSecrets = new Secrets();
